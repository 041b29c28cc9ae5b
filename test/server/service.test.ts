import { describe, expect, it } from 'vitest';
import {
  LockInputError,
  LockNotHeldError,
  LockStoreError,
} from '../../server-adapter/service/errors';
import type { LockEvent } from '../../server-adapter/service/events';
import {
  createLockService,
  type HeldResult,
  type LockServiceOptions,
} from '../../server-adapter/service/lock-service';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';

const alice: LockUser = { id: 'u-alice', name: 'Alice' };
const bob: LockUser = { id: 'u-bob', name: 'Bob' };
const START = 1_700_000_000_000;
const TTL = 60_000;

function setup(options: Partial<LockServiceOptions> = {}) {
  let clock = START;
  const events: LockEvent[] = [];
  const store = options.store ?? createMemoryLockStore();
  const service = createLockService({
    store,
    ttl: TTL,
    now: () => clock,
    onEvent: (event) => events.push(event),
    ...options,
  });
  const grant = async (id: string, user: LockUser, clientId: string, token?: string) => {
    const result = await service.acquire(id, user, { clientId, token });
    if (result.status !== 'held') throw new Error(`expected held, got ${result.status}`);
    return result;
  };
  return {
    service,
    store,
    events,
    grant,
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => clock,
  };
}

describe('events', () => {
  it('emits acquired with the lock, the user and the service clock', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    expect(s.events).toEqual([
      { type: 'acquired', resourceId: 'page:1', lock: held.lock, user: alice, at: START },
    ]);
    expect(JSON.stringify(s.events)).not.toContain(held.token);
  });

  it('emits refreshed on a refresh, a reclaim and a resume', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    s.advance(1_000);
    await s.grant('page:1', alice, 'tab-a', held.token); // refresh
    s.advance(1_000);
    const reclaimed = await s.grant('page:1', alice, 'tab-a'); // reclaim after a reload
    s.advance(TTL + 1);
    const resumed = await s.grant('page:1', alice, 'tab-a', reclaimed.token);
    expect(resumed.via).toBe('resumed');
    expect(s.events.slice(1).map((e) => [e.type, e.at])).toEqual([
      ['refreshed', START + 1_000],
      ['refreshed', START + 2_000],
      ['refreshed', START + 2_000 + TTL + 1],
    ]);
    expect(s.events.at(-1)).toMatchObject({ user: alice, lock: { fence: 1 } });
  });

  it('emits released by the holder, and by an admin', async () => {
    const s = setup();
    const first = await s.grant('page:1', alice, 'tab-a');
    await s.service.release('page:1', first.token);
    const second = await s.grant('page:2', bob, 'tab-b');
    expect(await s.service.forceRelease('page:2')).toEqual(second.lock);
    expect(s.events.filter((e) => e.type === 'released')).toEqual([
      { type: 'released', resourceId: 'page:1', lock: first.lock, by: 'holder', at: START },
      { type: 'released', resourceId: 'page:2', lock: second.lock, by: 'admin', at: START },
    ]);
  });

  it('emits expired when a lapsed lease is replaced by a new grant (no sweeper runs)', async () => {
    const s = setup();
    const first = await s.grant('page:1', alice, 'tab-a');
    s.advance(TTL);
    const second = await s.grant('page:1', bob, 'tab-b');
    expect(s.events.slice(1)).toEqual([
      { type: 'expired', resourceId: 'page:1', lock: first.lock, at: START + TTL },
      { type: 'acquired', resourceId: 'page:1', lock: second.lock, user: bob, at: START + TTL },
    ]);
  });

  it('emits expired then acquired when a takeover replaces a lapsed lease', async () => {
    const s = setup();
    await s.grant('page:1', alice, 'tab-a');
    s.advance(TTL);
    await s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 1 });
    expect(s.events.slice(1).map((e) => e.type)).toEqual(['expired', 'acquired']);
  });

  it('emits taken-over with the previous lock and the new holder', async () => {
    const s = setup({ canTakeOver: () => true });
    const first = await s.grant('page:1', alice, 'tab-a');
    s.advance(500);
    const taken = await s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 1 });
    expect(taken.status).toBe('held');
    expect(s.events.at(-1)).toEqual({
      type: 'taken-over',
      resourceId: 'page:1',
      lock: (taken as HeldResult).lock,
      previous: first.lock,
      user: bob,
      at: START + 500,
    });
  });

  it('emits denied for a held resource, a dead token and a refused takeover', async () => {
    const s = setup();
    const first = await s.grant('page:1', alice, 'tab-a');
    await s.service.acquire('page:1', bob, { clientId: 'tab-b' });
    await s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 1 });
    await s.service.release('page:1', first.token);
    await s.service.acquire('page:1', alice, { clientId: 'tab-a', token: first.token });
    const denied = s.events.filter((e) => e.type === 'denied');
    expect(denied).toEqual([
      {
        type: 'denied',
        resourceId: 'page:1',
        lock: first.lock,
        user: bob,
        action: 'acquire',
        at: START,
      },
      {
        type: 'denied',
        resourceId: 'page:1',
        lock: first.lock,
        user: bob,
        action: 'takeover',
        at: START,
      },
      {
        type: 'denied',
        resourceId: 'page:1',
        lock: null,
        user: alice,
        action: 'refresh',
        at: START,
      },
    ]);
  });

  it('still grants when onEvent throws', async () => {
    const s = setup({
      onEvent: () => {
        throw new Error('audit log down');
      },
    });
    const held = await s.grant('page:1', alice, 'tab-a');
    expect(await s.service.assertHeld('page:1', held.token, alice)).toEqual(held.lock);
    expect(await s.service.release('page:1', held.token)).toMatchObject({ status: 'released' });
  });
});

describe('canTakeOver', () => {
  it('defaults to no for another user', async () => {
    const s = setup();
    await s.grant('page:1', alice, 'tab-a');
    const locked = await s.service.acquire('page:1', bob, { clientId: 'tab-b' });
    expect(locked).toMatchObject({ status: 'locked', isSelf: false, canTakeOver: false });
    const refused = await s.service.takeOver('page:1', bob, {
      clientId: 'tab-b',
      expectedFence: 1,
    });
    expect(refused).toMatchObject({ status: 'forbidden', lock: { holder: alice } });
    expect((await s.service.list())[0]).toMatchObject({ holder: alice, fence: 1 });
  });

  it.each([
    ['sync', (user: LockUser) => user.id === bob.id],
    ['async', async (user: LockUser) => user.id === bob.id],
  ])('asks a %s policy with the user and the lock', async (_, policy) => {
    const asked: unknown[] = [];
    const s = setup({
      canTakeOver: (user, lock) => {
        asked.push([user.id, lock.holder.id, lock.fence]);
        return policy(user);
      },
    });
    await s.grant('page:1', alice, 'tab-a');
    expect(await s.service.get('page:1', { user: bob })).toMatchObject({ canTakeOver: true });
    const taken = await s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 1 });
    expect(taken).toMatchObject({ status: 'held', lock: { holder: bob, fence: 2 } });
    expect(asked).toEqual([
      ['u-bob', 'u-alice', 1],
      ['u-bob', 'u-alice', 1],
    ]);
  });

  it('always lets the same user take over from another tab, without asking the policy', async () => {
    const s = setup({
      canTakeOver: () => {
        throw new Error('policy must not be asked about the holder themself');
      },
    });
    await s.grant('page:1', alice, 'tab-a');
    const locked = await s.service.acquire('page:1', alice, { clientId: 'tab-2' });
    expect(locked).toMatchObject({ status: 'locked', isSelf: true, canTakeOver: true });
    const taken = await s.service.takeOver('page:1', alice, {
      clientId: 'tab-2',
      expectedFence: 1,
    });
    expect(taken).toMatchObject({ status: 'held', via: 'taken-over', lock: { fence: 2 } });
  });

  it('checks the fence before the policy: a holder nobody saw is a mismatch, not a refusal', async () => {
    const s = setup();
    await s.grant('page:1', alice, 'tab-a');
    const result = await s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 0 });
    expect(result).toMatchObject({ status: 'fence-mismatch', lock: { fence: 1 } });
  });
});

describe('assertHeld', () => {
  it('resolves with the lock while the token is live', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    expect(await s.service.assertHeld('page:1', held.token, alice)).toEqual(held.lock);
  });

  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LockNotHeldError);
    return error as LockNotHeldError;
  };

  it('refuses a lapsed lease (expired), even before anyone else took it', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    s.advance(TTL);
    const error = await refusal(s.service.assertHeld('page:1', held.token, alice));
    expect(error).toMatchObject({ reason: 'expired', lock: null, resourceId: 'page:1' });
  });

  it('refuses a released token', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    await s.service.release('page:1', held.token);
    expect(await refusal(s.service.assertHeld('page:1', held.token, alice))).toMatchObject({
      reason: 'released',
      lock: null,
    });
  });

  it('refuses a taken-over token, naming the new holder', async () => {
    const s = setup({ canTakeOver: () => true });
    const held = await s.grant('page:1', alice, 'tab-a');
    await s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 1 });
    const error = await refusal(s.service.assertHeld('page:1', held.token, alice));
    expect(error).toMatchObject({ reason: 'taken-over', lock: { holder: bob } });
    expect(error.message).toMatch(/\[page-lock\].*Bob holds it now/);
  });

  it('refuses an expired token when someone else holds the resource now', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    s.advance(TTL);
    await s.grant('page:1', bob, 'tab-b');
    expect(await refusal(s.service.assertHeld('page:1', held.token, alice))).toMatchObject({
      reason: 'expired',
      lock: { holder: bob },
    });
  });

  it('refuses with edited-meanwhile when someone else held it since, though it is free now', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    s.advance(TTL);
    const bobs = await s.grant('page:1', bob, 'tab-b');
    await s.service.release('page:1', bobs.token);
    expect(await refusal(s.service.assertHeld('page:1', held.token, alice))).toMatchObject({
      reason: 'edited-meanwhile',
      lock: null,
    });
  });

  it('refuses the live token of another user’s tab: a token is a lease secret, not an identity', async () => {
    const s = setup();
    const alices = await s.grant('page:1', alice, 'tab-a');
    const error = await refusal(s.service.assertHeld('page:1', alices.token, bob));
    expect(error).toMatchObject({ reason: 'expired', lock: { holder: alice } });
    expect(await s.service.assertHeld('page:1', alices.token, alice)).toEqual(alices.lock);
  });

  it('refuses a call without the user whose save it checks', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    await expect(
      s.service.assertHeld('page:1', held.token, undefined as unknown as LockUser),
    ).rejects.toBeInstanceOf(LockInputError);
  });

  it('refuses a token that is not a string as released, without asking the store', async () => {
    const s = setup();
    const error = await refusal(
      s.service.assertHeld('page:1', undefined as unknown as string, alice),
    );
    expect(error.reason).toBe('released');
  });
});

describe('list() and forceRelease()', () => {
  it('lists the live locks only, without tokens or client ids', async () => {
    const s = setup();
    const one = await s.grant('page:1', alice, 'tab-a');
    s.advance(TTL / 2);
    const two = await s.grant('page:2', bob, 'tab-b');
    expect(await s.service.list()).toEqual([one.lock, two.lock]);
    s.advance(TTL / 2);
    expect(await s.service.list()).toEqual([two.lock]);
    expect(JSON.stringify(await s.service.list())).not.toMatch(/tab-b|token|clientId/);
  });

  it('ends a live lock whatever its token; its holder is told released', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    expect(await s.service.forceRelease('page:1')).toEqual(held.lock);
    expect(await s.service.list()).toEqual([]);
    const refresh = await s.service.acquire('page:1', alice, {
      clientId: 'tab-a',
      token: held.token,
    });
    expect(refresh).toEqual({
      status: 'lost',
      reason: 'released',
      lock: null,
      isSelf: false,
      now: START,
    });
    const next = await s.grant('page:1', bob, 'tab-b');
    expect(next.lock.fence).toBe(2);
  });

  it('returns null for a free resource and emits nothing', async () => {
    const s = setup();
    expect(await s.service.forceRelease('page:1')).toBeNull();
    expect(s.events).toEqual([]);
  });
});

describe('getMany()', () => {
  it('answers every id as its own entry, even one named like an Object property', async () => {
    const s = setup();
    await s.grant('__proto__', alice, 'tab-a');
    const entries = await s.service.getMany(['__proto__', 'constructor', 'page:1'], { user: bob });
    expect(Object.keys(entries)).toEqual(['__proto__', 'constructor', 'page:1']);
    expect(JSON.parse(JSON.stringify(entries))).toEqual(
      JSON.parse(
        '{"__proto__":{"status":"locked","isSelf":false,"lock":' +
          JSON.stringify((await s.service.list())[0]) +
          '},"constructor":{"status":"free"},"page:1":{"status":"free"}}',
      ),
    );
  });
});

describe('since', () => {
  it('is kept across refresh, reclaim, resume and the same user taking over', async () => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    s.advance(10_000);
    expect((await s.grant('page:1', alice, 'tab-a', held.token)).lock.since).toBe(START);
    s.advance(10_000);
    const reclaimed = await s.grant('page:1', alice, 'tab-a');
    expect(reclaimed.lock.since).toBe(START);
    expect(reclaimed.token).not.toBe(held.token);
    s.advance(TTL + 10_000);
    const resumed = await s.grant('page:1', alice, 'tab-a', reclaimed.token);
    expect(resumed).toMatchObject({ via: 'resumed', lock: { since: START, fence: 1 } });
    s.advance(10_000);
    const here = await s.service.takeOver('page:1', alice, { clientId: 'tab-2', expectedFence: 1 });
    expect(here).toMatchObject({
      status: 'held',
      lock: { since: START, fence: 2, acquiredAt: s.now() },
    });
  });

  it('is new when another user is granted the resource', async () => {
    const s = setup({ canTakeOver: () => true });
    await s.grant('page:1', alice, 'tab-a');
    s.advance(1_000);
    const taken = await s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 1 });
    expect(taken).toMatchObject({ lock: { since: START + 1_000 } });
    s.advance(TTL);
    const after = await s.grant('page:1', alice, 'tab-a');
    expect(after.lock).toMatchObject({ since: s.now(), fence: 3 });
  });
});

describe('input validation: LockInputError, nothing changed', () => {
  const cases: [string, (s: ReturnType<typeof setup>) => Promise<unknown>, string][] = [
    [
      'an empty resource id',
      (s) => s.service.acquire('', alice, { clientId: 'tab-a' }),
      'resourceId',
    ],
    [
      'a 257-character id',
      (s) => s.service.acquire('x'.repeat(257), alice, { clientId: 'tab-a' }),
      'resourceId',
    ],
    ['a non-string id', (s) => s.service.get(42 as unknown as string), 'resourceId'],
    // URL parsers drop these path segments, so such a lock could never be reached over HTTP.
    ['the id ".."', (s) => s.service.acquire('..', alice, { clientId: 'tab-a' }), 'resourceId'],
    ['the id "."', (s) => s.service.acquire('.', alice, { clientId: 'tab-a' }), 'resourceId'],
    ['an empty clientId', (s) => s.service.acquire('page:1', alice, { clientId: '' }), 'clientId'],
    [
      'a clientId of 201 characters',
      (s) => s.service.acquire('page:1', bob, { clientId: 'c'.repeat(201) }),
      'clientId',
    ],
    [
      'an empty token',
      (s) => s.service.acquire('page:1', alice, { clientId: 'tab-a', token: '' }),
      'token',
    ],
    [
      'a user without id',
      (s) => s.service.acquire('page:1', { name: 'X' } as LockUser, { clientId: 'tab-x' }),
      'user',
    ],
    [
      'a negative expectedFence',
      (s) => s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: -1 }),
      'expectedFence',
    ],
    [
      'a fractional expectedFence',
      (s) => s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 1.5 }),
      'expectedFence',
    ],
    ['a release without token', (s) => s.service.release('page:1', '' as string), 'token'],
    ['101 ids', (s) => s.service.getMany(Array.from({ length: 101 }, (_, i) => `p${i}`)), 'ids'],
    ['an empty id in a batch', (s) => s.service.getMany(['page:1', '']), 'ids'],
    ['forceRelease of an empty id', (s) => s.service.forceRelease(''), 'resourceId'],
  ];

  it.each(cases)('refuses %s', async (_, call, field) => {
    const s = setup();
    const held = await s.grant('page:1', alice, 'tab-a');
    const before = { locks: await s.service.list(), events: s.events.length };
    const error = await call(s).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LockInputError);
    expect(error).toMatchObject({ code: 'bad-request', field, now: START });
    expect((error as Error).message).toContain(`[page-lock] "${field}"`);
    expect({ locks: await s.service.list(), events: s.events.length }).toEqual(before);
    expect(await s.service.assertHeld('page:1', held.token, alice)).toEqual(held.lock);
  });

  it('refuses bad options when the service is made', () => {
    expect(() => createLockService({} as LockServiceOptions)).toThrow(
      /\[page-lock\] \[service\].*store/,
    );
    expect(() => createLockService({ store: createMemoryLockStore(), ttl: 0 })).toThrow(/ttl/);
  });
});

describe('a failing store', () => {
  /** The memory store, with the chosen methods failing the way a driver does. */
  function failing(methods: (keyof LockStore)[]): LockStore {
    const real = createMemoryLockStore();
    const store: LockStore = { ...real };
    for (const method of methods) {
      Object.assign(store, {
        [method]: async () => {
          throw new Error(`ECONNRESET during ${method}`);
        },
      });
    }
    return store;
  }

  it.each([
    [
      'acquire',
      (s: ReturnType<typeof setup>) => s.service.acquire('page:1', bob, { clientId: 'tab-b' }),
    ],
    [
      'takeOver',
      (s: ReturnType<typeof setup>) =>
        s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 0 }),
    ],
    ['release', (s: ReturnType<typeof setup>) => s.service.release('page:1', 'a-token')],
    ['get', (s: ReturnType<typeof setup>) => s.service.get('page:1')],
    ['getMany', (s: ReturnType<typeof setup>) => s.service.getMany(['page:1'])],
    ['list', (s: ReturnType<typeof setup>) => s.service.list()],
    ['forceRelease', (s: ReturnType<typeof setup>) => s.service.forceRelease('page:1')],
    ['check', (s: ReturnType<typeof setup>) => s.service.assertHeld('page:1', 'a-token', alice)],
  ] as const)('turns a %s failure into LockStoreError, never a grant', async (method, call) => {
    const s = setup({ store: failing([method]) });
    const error = await call(s).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LockStoreError);
    expect(error).toMatchObject({ code: 'store-error', now: START });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(s.events).toEqual([]);
  });

  it('grants nothing when the takeover itself fails after the fence was read', async () => {
    const s = setup({ store: failing(['takeOver']) });
    await expect(
      s.service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 0 }),
    ).rejects.toBeInstanceOf(LockStoreError);
    expect(await s.service.get('page:1')).toMatchObject({ status: 'free' });
  });
});
