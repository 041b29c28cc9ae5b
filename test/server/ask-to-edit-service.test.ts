import { describe, expect, it } from 'vitest';
import { decodeLockChange, encodeLockChange } from '../../server-adapter/live/lock-change-message';
import type { LockChange } from '../../server-adapter/live/lock-feed';
import {
  LockForbiddenError,
  LockInputError,
  LockNotHeldError,
  PageLockError,
} from '../../server-adapter/service/errors';
import type { LockEvent } from '../../server-adapter/service/events';
import {
  type AskResult,
  createLockService,
  type HeldResult,
  type LockServiceOptions,
  type QueuedResult,
} from '../../server-adapter/service/lock-service';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import { type LockUser, MAX_QUEUE_LENGTH } from '../../src/protocol/protocol';

// Ask to edit through the real service over the memory store, with a clock the tests move.

const alice: LockUser = { id: 'u-alice', name: 'Alice' };
const bob: LockUser = { id: 'u-bob', name: 'Bob', avatarUrl: '/bob.png' };
const carol: LockUser = { id: 'u-carol', name: 'Carol' };
const START = 1_700_000_000_000;
const TTL = 60_000;
const PAGE = 'page:1';

function setup(options: Partial<LockServiceOptions> = {}) {
  let clock = START;
  const events: LockEvent[] = [];
  const changes: LockChange[] = [];
  const store = options.store ?? createMemoryLockStore();
  const service = createLockService({
    store,
    ttl: TTL,
    now: () => clock,
    onEvent: (event) => events.push(event),
    ...options,
  });
  service.feed.subscribe((change) => changes.push(change));
  const grant = async (user: LockUser, clientId: string, token?: string): Promise<HeldResult> => {
    const result = await service.acquire(PAGE, user, { clientId, token });
    if (result.status !== 'held') throw new Error(`expected held, got ${result.status}`);
    return result;
  };
  const queued = async (
    user: LockUser,
    clientId: string,
    more: { message?: string; renew?: boolean } = {},
  ): Promise<QueuedResult> => {
    const result = await service.ask(PAGE, user, { clientId, ...more });
    if (result.status !== 'queued') throw new Error(`expected queued, got ${result.status}`);
    return result;
  };
  /** What the holder's next refresh shows of the line (it changes nothing but the lease). */
  const waitersSeenBy = async (clientId: string, token: string) =>
    (await grant(alice, clientId, token)).waiters ?? [];
  return {
    service,
    store,
    events,
    changes,
    grant,
    queued,
    waitersSeenBy,
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => clock,
  };
}

function heldOf(result: AskResult): HeldResult {
  if (result.status !== 'held') throw new Error(`expected held, got ${result.status}`);
  return result;
}

describe('service.ask: joining the line', () => {
  it('puts a blocked user in line: place 1, its waiter as the holder sees it, never its tab', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    s.advance(1_000);
    const asked = await s.queued(bob, 'tab-b', { message: '  Typo in the title  ' });
    expect(asked).toEqual({
      status: 'queued',
      lock: holder.lock,
      place: 1,
      waiter: {
        id: expect.any(String),
        user: bob,
        askedAt: START + 1_000,
        message: 'Typo in the title',
        request: 'pending',
        requestExpiresAt: START + 1_000 + 120_000,
      },
      ttlMs: TTL,
      now: START + 1_000,
    });
    expect(asked.waiter.id.length).toBeGreaterThanOrEqual(22);
    expect(JSON.stringify(asked)).not.toMatch(/tab-|clientId|"queue"/);

    // The holder sees the request on its next refresh; others see how many wait.
    expect(await s.waitersSeenBy('tab-a', holder.token)).toEqual([asked.waiter]);
    const carolSees = await s.service.acquire(PAGE, carol, { clientId: 'tab-c' });
    expect(carolSees).toMatchObject({ status: 'locked', waiting: 1 });
    expect(await s.service.get(PAGE, { user: carol })).toMatchObject({
      status: 'locked',
      waiting: 1,
    });
    expect(JSON.stringify(carolSees)).not.toMatch(/tab-|clientId|"queue"/);
  });

  it('orders the line first come first served; asking again keeps the place', async () => {
    const s = setup();
    await s.grant(alice, 'tab-a');
    const first = await s.queued(bob, 'tab-b');
    s.advance(10);
    const second = await s.queued(carol, 'tab-c');
    expect(second.place).toBe(2);
    s.advance(10);
    const again = await s.queued(bob, 'tab-b', { message: 'please' });
    expect(again.place).toBe(1);
    expect(again.waiter).toMatchObject({ id: first.waiter.id, askedAt: START, message: 'please' });
  });

  it('treats an empty note as none, and refuses one over 200 characters without changing anything', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const blank = await s.queued(bob, 'tab-b', { message: '   ' });
    expect(blank.waiter).not.toHaveProperty('message');

    const long = 'x'.repeat(201);
    await expect(s.service.ask(PAGE, carol, { clientId: 'tab-c', message: long })).rejects.toThrow(
      LockInputError,
    );
    // 200 characters after trimming is fine.
    const fits = await s.queued(carol, 'tab-c', { message: ` ${'y'.repeat(200)} ` });
    expect(fits.waiter.message).toHaveLength(200);
    const seen = await s.waitersSeenBy('tab-a', holder.token);
    expect(seen.map((waiter) => waiter.user.id)).toEqual([bob.id, carol.id]);
  });

  it('refuses bad input before the store is touched', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const bad: Array<() => Promise<unknown>> = [
      () => s.service.ask(PAGE, bob, { clientId: '' }),
      () => s.service.ask(PAGE, bob, { clientId: 'tab-b', message: 7 as unknown as string }),
      () => s.service.ask(PAGE, bob, { clientId: 'tab-b', renew: 'yes' as unknown as boolean }),
      () => s.service.ask('', bob, { clientId: 'tab-b' }),
    ];
    for (const call of bad) await expect(call()).rejects.toBeInstanceOf(LockInputError);
    expect(await s.waitersSeenBy('tab-a', holder.token)).toEqual([]);
    expect(s.changes).toEqual([expect.objectContaining({ change: 'acquired' })]);
  });

  it('tells an asker that a free page is free (not-locked), and stores nothing', async () => {
    const memory = createMemoryLockStore();
    const s = setup({ store: memory });
    expect(await s.service.ask(PAGE, bob, { clientId: 'tab-b' })).toEqual({
      status: 'not-locked',
      now: START,
    });
    expect(memory.size).toBe(0);
    expect(s.events).toEqual([]);
  });

  it('tells the holder’s own other tab to edit here instead (self), with the lock', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    expect(await s.service.ask(PAGE, alice, { clientId: 'tab-2' })).toEqual({
      status: 'self',
      lock: holder.lock,
      now: START,
    });
    expect(await s.waitersSeenBy('tab-a', holder.token)).toEqual([]);
  });

  it('asks authorize(user, id, "ask") first: a refusal is a 403 error and nothing is stored', async () => {
    const asked: string[] = [];
    const s = setup({
      authorize: (user, _id, action) => {
        asked.push(`${user.id}:${action}`);
        return user.id !== bob.id;
      },
    });
    const holder = await s.grant(alice, 'tab-a');
    const error = await s.service.ask(PAGE, bob, { clientId: 'tab-b' }).catch((e) => e);
    expect(error).toBeInstanceOf(LockForbiddenError);
    expect(error.message).toMatch(/may not ask to edit "page:1"/);
    expect(asked).toEqual(['u-alice:acquire', 'u-bob:ask']);
    expect(await s.waitersSeenBy('tab-a', holder.token)).toEqual([]);
  });

  it(`refuses one more than ${MAX_QUEUE_LENGTH} waiting tabs (queue-full), keeping the line as it is`, async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    for (let index = 0; index < MAX_QUEUE_LENGTH; index++) {
      await s.queued(bob, `tab-b${index}`);
    }
    const full = await s.service.ask(PAGE, carol, { clientId: 'tab-c' });
    expect(full).toEqual({
      status: 'queue-full',
      lock: holder.lock,
      waiting: MAX_QUEUE_LENGTH,
      now: START,
    });
    const seen = await s.waitersSeenBy('tab-a', holder.token);
    expect(seen).toHaveLength(MAX_QUEUE_LENGTH);
    expect(seen.some((waiter) => waiter.user.id === carol.id)).toBe(false);
  });

  it('keeps a place alive with renew, and drops a place whose tab stopped asking', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const bobAsked = await s.queued(bob, 'tab-b');
    await s.queued(carol, 'tab-c');
    s.advance(TTL - 1_000);
    // Alice and Bob poll; Carol's tab went quiet.
    await s.grant(alice, 'tab-a', holder.token);
    const kept = await s.queued(bob, 'tab-b', { renew: true });
    expect(kept.waiter).toEqual(bobAsked.waiter);
    s.advance(2_000);
    const refreshed = await s.grant(alice, 'tab-a', holder.token);
    expect(refreshed.waiters?.map((waiter) => waiter.user.id)).toEqual([bob.id]);

    // A renew after the place lapsed joins at the back, as a new place.
    s.advance(TTL - 1);
    await s.grant(alice, 'tab-a', holder.token);
    const rejoined = await s.queued(bob, 'tab-b', { renew: true });
    expect(rejoined.waiter.id).not.toBe(bobAsked.waiter.id);
    expect(rejoined.waiter.askedAt).toBe(s.now());
  });

  it('shows a pending request nobody answered within askTimeout as lapsed (it keeps its place)', async () => {
    const s = setup({ askTimeout: 5_000 });
    const holder = await s.grant(alice, 'tab-a');
    await s.queued(bob, 'tab-b');
    s.advance(5_000);
    const renewed = await s.queued(bob, 'tab-b', { renew: true });
    expect(renewed.waiter.request).toBe('lapsed');
    expect(renewed.place).toBe(1);
    const seen = await s.waitersSeenBy('tab-a', holder.token);
    expect(seen[0]?.request).toBe('lapsed');
    // Asking again makes it pending again, for another askTimeout.
    const again = await s.queued(bob, 'tab-b');
    expect(again.waiter).toMatchObject({ request: 'pending', requestExpiresAt: s.now() + 5_000 });
  });
});

describe('service.ask: events and news', () => {
  it('emits asked and publishes asked for a new place or an ask again, never for a renew', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    await s.queued(bob, 'tab-b');
    await s.queued(bob, 'tab-b', { renew: true });
    await s.queued(bob, 'tab-b', { message: 'again' });
    const asked = s.events.filter((event) => event.type === 'asked');
    expect(asked).toEqual([
      { type: 'asked', resourceId: PAGE, lock: holder.lock, user: bob, place: 1, at: START },
      { type: 'asked', resourceId: PAGE, lock: holder.lock, user: bob, place: 1, at: START },
    ]);
    expect(s.changes.map((change) => change.change)).toEqual(['acquired', 'asked', 'asked']);
    expect(s.changes[1]).toEqual({
      resourceId: PAGE,
      change: 'asked',
      lock: holder.lock,
      at: START,
    });
  });
});

describe('service.answer', () => {
  it('hands the page to the waiter: a new grant its tab takes by asking, the holder is told handed-over', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const bobAsked = await s.queued(bob, 'tab-b');
    s.advance(1_000);
    const answered = await s.service.answer(PAGE, alice, {
      token: holder.token,
      waiterId: bobAsked.waiter.id,
      answer: 'hand-over',
    });
    const passed = {
      resourceId: PAGE,
      holder: bob,
      since: START + 1_000,
      acquiredAt: START + 1_000,
      expiresAt: START + 1_000 + 30_000,
      fence: holder.lock.fence + 1,
    };
    expect(answered).toEqual({ status: 'handed-over', lock: passed, now: START + 1_000 });
    expect(s.events.at(-1)).toEqual({
      type: 'handed-over',
      resourceId: PAGE,
      lock: passed,
      previous: holder.lock,
      user: bob,
      at: START + 1_000,
    });
    expect(s.changes.at(-1)).toEqual({
      resourceId: PAGE,
      change: 'handed-over',
      lock: passed,
      at: START + 1_000,
    });

    // Nobody else slips in meanwhile.
    expect(await s.service.acquire(PAGE, carol, { clientId: 'tab-c' })).toMatchObject({
      status: 'locked',
      lock: passed,
    });
    // Bob's tab asks (its poll) and gets the page under a fresh token.
    s.advance(500);
    const bobHolds = heldOf(await s.service.ask(PAGE, bob, { clientId: 'tab-b', renew: true }));
    expect(bobHolds.lock).toEqual({ ...passed, expiresAt: s.now() + TTL });
    expect(bobHolds.token.length).toBeGreaterThanOrEqual(22);
    expect(await s.service.assertHeld(PAGE, bobHolds.token, bob)).toEqual(bobHolds.lock);

    // Alice's refresh is lost with reason handed-over, and her saves are refused.
    const late = await s.service.acquire(PAGE, alice, { clientId: 'tab-a', token: holder.token });
    expect(late).toMatchObject({ status: 'lost', reason: 'handed-over', lock: bobHolds.lock });
    const refused = await s.service.assertHeld(PAGE, holder.token, alice).catch((e) => e);
    expect(refused).toBeInstanceOf(LockNotHeldError);
    expect(refused.reason).toBe('handed-over');
  });

  it('declines: the waiter keeps its place and sees declined; the holder keeps editing', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const bobAsked = await s.queued(bob, 'tab-b');
    const carolAsked = await s.queued(carol, 'tab-c');
    const answered = await s.service.answer(PAGE, alice, {
      token: holder.token,
      waiterId: bobAsked.waiter.id,
      answer: 'decline',
    });
    expect(answered).toEqual({
      status: 'declined',
      lock: holder.lock,
      waiters: [{ ...bobAsked.waiter, request: 'declined' }, carolAsked.waiter],
      now: START,
    });
    expect(s.events.at(-1)).toEqual({
      type: 'declined',
      resourceId: PAGE,
      lock: holder.lock,
      user: bob,
      at: START,
    });
    expect(s.changes.at(-1)?.change).toBe('declined');
    const bobSees = await s.queued(bob, 'tab-b', { renew: true });
    expect(bobSees).toMatchObject({ place: 1, waiter: { request: 'declined' } });
    expect(await s.service.assertHeld(PAGE, holder.token, alice)).toEqual(holder.lock);
  });

  it('refuses anyone but the holder (not-holder) and changes nothing', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const bobAsked = await s.queued(bob, 'tab-b');
    const waiterId = bobAsked.waiter.id;
    // Bob presenting Alice's token: a token is a lease secret, not an identity.
    const stolen = await s.service.answer(PAGE, bob, {
      token: holder.token,
      waiterId,
      answer: 'hand-over',
    });
    expect(stolen).toEqual({ status: 'not-holder', lock: holder.lock, now: START });
    const guessed = await s.service.answer(PAGE, alice, {
      token: 'not-the-token-0123456789',
      waiterId,
      answer: 'hand-over',
    });
    expect(guessed).toEqual({ status: 'not-holder', lock: holder.lock, now: START });
    // A lapsed holder no longer answers.
    s.advance(TTL);
    const lapsed = await s.service.answer(PAGE, alice, {
      token: holder.token,
      waiterId,
      answer: 'decline',
    });
    expect(lapsed.status).toBe('not-holder');
    expect(s.events.filter((event) => event.type === 'handed-over')).toEqual([]);
    expect(s.changes.map((change) => change.change)).toEqual(['acquired', 'asked']);
  });

  it('shows the lock in a refusal only to a user who may observe it', async () => {
    const s = setup({
      authorize: (user, _id, action) => user.id !== carol.id || action !== 'observe',
    });
    const holder = await s.grant(alice, 'tab-a');
    const bobAsked = await s.queued(bob, 'tab-b');
    const refused = await s.service.answer(PAGE, carol, {
      token: holder.token,
      waiterId: bobAsked.waiter.id,
      answer: 'hand-over',
    });
    expect(refused).toEqual({ status: 'not-holder', lock: null, now: START });
  });

  it('answers not-queued for a waiter that left, and changes nothing', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const bobAsked = await s.queued(bob, 'tab-b');
    expect(await s.service.leave(PAGE, bob, 'tab-b')).toEqual({ status: 'left', now: START });
    const answered = await s.service.answer(PAGE, alice, {
      token: holder.token,
      waiterId: bobAsked.waiter.id,
      answer: 'hand-over',
    });
    expect(answered).toEqual({ status: 'not-queued', lock: holder.lock, now: START });
    expect(await s.service.assertHeld(PAGE, holder.token, alice)).toEqual(holder.lock);
  });

  it('refuses an answer that is not hand-over or decline, and a bad waiter id', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const bobAsked = await s.queued(bob, 'tab-b');
    const token = holder.token;
    const maybe = s.service.answer(PAGE, alice, {
      token,
      waiterId: bobAsked.waiter.id,
      answer: 'maybe' as 'decline',
    });
    await expect(maybe).rejects.toBeInstanceOf(LockInputError);
    const noWaiter = s.service.answer(PAGE, alice, { token, waiterId: '', answer: 'decline' });
    await expect(noWaiter).rejects.toBeInstanceOf(LockInputError);
    expect(await s.waitersSeenBy('tab-a', token)).toEqual([bobAsked.waiter]);
  });
});

describe('service.leave', () => {
  it('takes a tab out of the line and publishes left; a tab without a place is not-queued', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    await s.queued(bob, 'tab-b');
    const carolAsked = await s.queued(carol, 'tab-c');
    expect(await s.service.leave(PAGE, undefined, 'tab-b')).toEqual({ status: 'left', now: START });
    expect(s.changes.at(-1)).toEqual({
      resourceId: PAGE,
      change: 'left',
      lock: holder.lock,
      at: START,
    });
    expect(await s.service.leave(PAGE, bob, 'tab-b')).toEqual({
      status: 'not-queued',
      now: START,
    });
    expect(s.changes.filter((change) => change.change === 'left')).toHaveLength(1);
    expect(await s.waitersSeenBy('tab-a', holder.token)).toEqual([
      { ...carolAsked.waiter, request: 'pending' },
    ]);
    const again = await s.queued(carol, 'tab-c', { renew: true });
    expect(again.place).toBe(1);
  });
});

describe('release and the line', () => {
  it('passes a released page to the first waiter (passedTo) and tells the streams', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    await s.queued(bob, 'tab-b');
    await s.queued(carol, 'tab-c');
    s.advance(1_000);
    const released = await s.service.release(PAGE, holder.token);
    const passed = {
      resourceId: PAGE,
      holder: bob,
      since: START + 1_000,
      acquiredAt: START + 1_000,
      expiresAt: START + 31_000,
      fence: 2,
    };
    expect(released).toEqual({
      status: 'released',
      lock: holder.lock,
      passedTo: passed,
      now: START + 1_000,
    });
    expect(s.events.at(-1)).toMatchObject({ type: 'released', by: 'holder' });
    expect(s.changes.at(-1)).toEqual({
      resourceId: PAGE,
      change: 'released',
      lock: passed,
      at: START + 1_000,
    });
    // Carol is next now; Bob's tab takes the page by asking, with Carol still waiting.
    expect((await s.queued(carol, 'tab-c', { renew: true })).place).toBe(1);
    const bobHolds = heldOf(await s.service.ask(PAGE, bob, { clientId: 'tab-b', renew: true }));
    expect(bobHolds.waiters?.map((waiter) => waiter.user.id)).toEqual([carol.id]);
    expect(s.changes.at(-1)).toMatchObject({ change: 'acquired', lock: bobHolds.lock });
  });

  it('passes the page on when the first waiter does not take it within queueGrace', async () => {
    const s = setup({ queueGrace: 5_000 });
    const holder = await s.grant(alice, 'tab-a');
    await s.queued(bob, 'tab-b');
    await s.queued(carol, 'tab-c');
    const released = await s.service.release(PAGE, holder.token);
    expect(released.status === 'released' && released.passedTo?.expiresAt).toBe(START + 5_000);
    s.advance(5_000);
    // Carol's poll finds the page passed to her (Bob's grace ran out).
    const carolHolds = heldOf(await s.service.ask(PAGE, carol, { clientId: 'tab-c', renew: true }));
    expect(carolHolds.lock).toMatchObject({ holder: carol, fence: 3 });
    // Bob's tab, late, is just in line again.
    expect(await s.service.ask(PAGE, bob, { clientId: 'tab-b', renew: true })).toMatchObject({
      status: 'queued',
      place: 1,
    });
  });

  it('releases without a line as before: free, news without a lock', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    expect(await s.service.release(PAGE, holder.token)).toEqual({
      status: 'released',
      lock: holder.lock,
      now: START,
    });
    expect(s.changes.at(-1)).toEqual({
      resourceId: PAGE,
      change: 'released',
      lock: null,
      at: START,
    });
  });

  it('tells an idle release apart (idle-released), and refuses any other reason without releasing', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const bad = s.service.release(PAGE, holder.token, { reason: 'bored' as 'idle' });
    await expect(bad).rejects.toBeInstanceOf(LockInputError);
    expect(await s.service.assertHeld(PAGE, holder.token, alice)).toEqual(holder.lock);

    await s.queued(bob, 'tab-b');
    const released = await s.service.release(PAGE, holder.token, { reason: 'idle' });
    expect(released).toMatchObject({ status: 'released', passedTo: { holder: bob } });
    expect(s.events.at(-1)).toEqual({
      type: 'idle-released',
      resourceId: PAGE,
      lock: holder.lock,
      at: START,
    });
    expect(s.events.some((event) => event.type === 'released')).toBe(false);
    expect(s.changes.at(-1)).toMatchObject({ change: 'idle-released', lock: { holder: bob } });
  });

  it('passes a force-released page to the first waiter too, and says so in the news', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    await s.queued(bob, 'tab-b');
    expect(await s.service.forceRelease(PAGE)).toEqual(holder.lock);
    expect(s.changes.at(-1)).toMatchObject({
      change: 'force-released',
      lock: { holder: bob, fence: 2, expiresAt: START + 30_000 },
    });
  });

  it('lets a takeover jump the line: the waiters stay, the taker’s own place goes', async () => {
    const s = setup({ canTakeOver: () => true });
    const holder = await s.grant(alice, 'tab-a');
    await s.queued(bob, 'tab-b');
    await s.queued(carol, 'tab-c');
    const taken = await s.service.takeOver(PAGE, carol, {
      clientId: 'tab-c',
      expectedFence: holder.lock.fence,
    });
    if (taken.status !== 'held') throw new Error(`expected held, got ${taken.status}`);
    expect(taken.waiters?.map((waiter) => waiter.user.id)).toEqual([bob.id]);
  });
});

describe('options and stores', () => {
  it('validates queueGrace and askTimeout like ttl', () => {
    const store = createMemoryLockStore();
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createLockService({ store, queueGrace: bad })).toThrow(
        /Option "queueGrace" must be a positive number/,
      );
      expect(() => createLockService({ store, askTimeout: bad })).toThrow(
        /Option "askTimeout" must be a positive number/,
      );
    }
  });

  it('answers not-supported for a store without ask, answer and leave, and the rest still works', async () => {
    const { ask: _ask, answer: _answer, leave: _leave, ...withoutLine } = createMemoryLockStore();
    const store: LockStore = withoutLine;
    const s = setup({ store });
    const holder = await s.grant(alice, 'tab-a');
    const calls = [
      s.service.ask(PAGE, bob, { clientId: 'tab-b' }),
      s.service.answer(PAGE, alice, { token: holder.token, waiterId: 'w-1', answer: 'decline' }),
      s.service.leave(PAGE, bob, 'tab-b'),
    ];
    for (const call of calls) {
      const error = await call.catch((e) => e);
      expect(error).toBeInstanceOf(PageLockError);
      expect(error.code).toBe('not-supported');
    }
    expect(await s.service.release(PAGE, holder.token)).toMatchObject({ status: 'released' });
  });
});

describe('the line’s news between instances', () => {
  it('carries every change the line makes through the Redis and Postgres feeds’ encoding', async () => {
    const s = setup();
    const holder = await s.grant(alice, 'tab-a');
    const bobAsked = await s.queued(bob, 'tab-b');
    await s.service.answer(PAGE, alice, {
      token: holder.token,
      waiterId: bobAsked.waiter.id,
      answer: 'decline',
    });
    await s.queued(carol, 'tab-c');
    await s.service.leave(PAGE, carol, 'tab-c');
    await s.service.answer(PAGE, alice, {
      token: holder.token,
      waiterId: bobAsked.waiter.id,
      answer: 'hand-over',
    });
    const held = heldOf(await s.service.ask(PAGE, bob, { clientId: 'tab-b', renew: true }));
    await s.service.release(PAGE, held.token, { reason: 'idle' });
    expect(s.changes.map((change) => change.change)).toEqual([
      'acquired',
      'asked',
      'declined',
      'asked',
      'left',
      'handed-over',
      'acquired',
      'idle-released',
    ]);
    for (const change of s.changes)
      expect(decodeLockChange(encodeLockChange(change))).toEqual(change);
  });
});
