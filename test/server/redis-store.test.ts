import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLockHandler, createLockService } from '../../server-adapter';
import { createRedisLockStore } from '../../server-adapter/redis';
import type { LockStore, StoreAskInput, StoredLock } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';
import { runLockStoreContract } from '../contract';

const url = process.env.PAGE_LOCK_REDIS_URL;

/** Every record key under `prefix`, read from Redis itself with SCAN. */
async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** The contract suite travels in time through `now`: it runs by the service's clock. */
const byTheSuiteClock = { clock: 'service', warnIfVolatile: false } as const;

if (!url) {
  it.skip('Redis store: set PAGE_LOCK_REDIS_URL=redis://127.0.0.1:6379 to run these tests');
} else {
  runLockStoreContract(
    'redis',
    () => {
      const prefix = `page-lock-test:${randomBytes(6).toString('hex')}:`;
      const clients = [new Redis(url)];
      return {
        store: createRedisLockStore({ client: clients[0] as Redis, prefix, ...byTheSuiteClock }),
        // A resource's keys (its state and its fence) share one hash tag: one record each.
        countRecords: async () =>
          new Set((await keysUnder(clients[0] as Redis, prefix)).map((key) => key.split('}')[0]))
            .size,
        reopen: async () => {
          const client = new Redis(url);
          clients.push(client);
          return createRedisLockStore({ client, prefix, ...byTheSuiteClock });
        },
        cleanup: async () => {
          const admin = clients[0] as Redis;
          const keys = await keysUnder(admin, prefix);
          if (keys.length > 0) await admin.del(...keys);
          await Promise.all(clients.map((client) => client.quit()));
        },
      };
    },
    { describe, it, expect, beforeEach, afterEach },
  );
}

describe.skipIf(!url)('createRedisLockStore', () => {
  const alice = { id: 'alice', name: 'Alice' };
  let redis: Redis;
  let prefix: string;
  beforeEach(() => {
    redis = new Redis(url as string);
    prefix = `page-lock-test:${randomBytes(6).toString('hex')}:`;
  });
  afterEach(async () => {
    const keys = await keysUnder(redis, prefix);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  /** Redis' own clock, epoch ms, as the scripts read it. */
  const redisNow = async (): Promise<number> => {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };

  const grant = (store: ReturnType<typeof createRedisLockStore>, now: number, newToken: string) =>
    store.acquire({
      resourceId: 'page:1',
      holder: alice,
      clientId: newToken,
      newToken,
      now,
      ttl: 60_000,
    });

  it('refuses bad options with a clear message', () => {
    // @ts-expect-error: no client
    expect(() => createRedisLockStore({})).toThrow('[page-lock] [redis] Missing option "client"');
    expect(() => createRedisLockStore({ client: redis, prefix: 'app:{x}:' })).toThrow(
      '[page-lock] [redis] Option "prefix" must be a string without "{" or "}"',
    );
    expect(() => createRedisLockStore({ client: redis, gcMargin: 0 })).toThrow(
      '[page-lock] [redis] Option "gcMargin" must be a positive whole number of ms',
    );
    // @ts-expect-error: not a clock
    expect(() => createRedisLockStore({ client: redis, clock: 'local' })).toThrow(
      '[page-lock] [redis] Option "clock" must be "store" or "service"',
    );
  });

  it('lets Redis collect the state a margin after the lease, but never the fence', async () => {
    const store = createRedisLockStore({
      client: redis,
      prefix,
      gcMargin: 5_000,
      warnIfVolatile: false,
    });
    // The margin is counted on Redis' clock: a service clock a day behind changes nothing.
    await grant(store, Date.now() - 86_400_000, 'token-1');
    const state = `${prefix}{page:1}:state`;
    const fence = `${prefix}{page:1}:fence`;
    expect(await redis.pttl(state)).toBeGreaterThan(60_000);
    expect(await redis.pttl(state)).toBeLessThanOrEqual(65_000);
    expect(await redis.pttl(fence)).toBe(-1);

    await redis.del(state); // what expiry does, a day later
    const again = await grant(store, Date.now() + 86_400_000, 'token-2');
    expect(again.outcome === 'granted' && again.lock.fence).toBe(2);
  });

  it('loads its scripts again after Redis forgot them (SCRIPT FLUSH, a restart)', async () => {
    const store = createRedisLockStore({ client: redis, prefix, warnIfVolatile: false });
    await redis.script('FLUSH');
    expect((await grant(store, Date.now(), 'token-1')).outcome).toBe('granted');
  });

  it("decides every write by Redis' own clock (TIME in the script) and reports it as now", async () => {
    const store = createRedisLockStore({ client: redis, prefix, warnIfVolatile: false });
    const before = await redisNow();
    // A service clock an hour ahead: ignored, the lease is measured on Redis' clock.
    const held = await grant(store, Date.now() + 3_600_000, 'token-1');
    const after = await redisNow();
    if (held.outcome !== 'granted') throw new Error('expected a grant');
    expect(held.now).toBeGreaterThanOrEqual(before);
    expect(held.now).toBeLessThanOrEqual(after);
    expect(held.lock).toMatchObject({
      since: held.now,
      acquiredAt: held.now,
      expiresAt: held.now + 60_000,
    });
    // Another instance an hour behind sees it live and cannot have it.
    const bob = await store.acquire({
      resourceId: 'page:1',
      holder: { id: 'bob', name: 'Bob' },
      clientId: 'tab-bob',
      newToken: 'token-2',
      now: Date.now() + 3_600_000 + 61_000,
      ttl: 60_000,
    });
    expect(bob.outcome).toBe('locked');
    expect(bob.now).toBeGreaterThanOrEqual(held.now);
    const refreshed = await store.acquire({
      resourceId: 'page:1',
      holder: alice,
      clientId: 'token-1',
      token: 'token-1',
      newToken: 'token-3',
      now: 0,
      ttl: 60_000,
    });
    expect(refreshed.outcome).toBe('refreshed');
    expect(refreshed.lock?.expiresAt).toBe(refreshed.now + 60_000);
    const released = await store.release({ resourceId: 'page:1', token: 'token-1', now: 0 });
    expect(released.outcome).toBe('released');
    expect(released.now).toBeGreaterThanOrEqual(refreshed.now);
  });

  it("judges reads and checks by Redis' clock too, whatever now the service passes", async () => {
    const store = createRedisLockStore({ client: redis, prefix, warnIfVolatile: false });
    const held = await grant(store, Date.now(), 'token-1');
    const farAhead = { now: Date.now() + 3_600_000 };
    expect(await store.get('page:1', farAhead)).toEqual(held.lock);
    expect([...(await store.getMany(['page:1'], farAhead)).keys()]).toEqual(['page:1']);
    expect((await store.list(farAhead)).map((lock) => lock.resourceId)).toEqual(['page:1']);
    const check = await store.check({ resourceId: 'page:1', token: 'token-1', ...farAhead });
    expect(check.outcome).toBe('live');
    expect(Math.abs(check.now - (await redisNow()))).toBeLessThan(1_000);
    // By the service's clock (the option), the same hour ahead says it lapsed.
    const byService = createRedisLockStore({
      client: redis,
      prefix,
      clock: 'service',
      warnIfVolatile: false,
    });
    expect(await byService.get('page:1', farAhead)).toBeNull();
    expect(await byService.check({ resourceId: 'page:1', token: 'token-1', ...farAhead })).toEqual({
      outcome: 'lapsed',
      lock: held.lock,
      now: farAhead.now,
    });
  });

  describe('when Redis keeps nothing across a restart (this machine runs it so)', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('warns once, at the first use, naming appendonly yes and why', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const client = new Redis(url as string);
      try {
        expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
        const store = createRedisLockStore({ client, prefix });
        expect(warn).not.toHaveBeenCalled(); // not at creation: at the first use
        await grant(store, Date.now(), 'token-1');
        await store.get('page:1', { now: Date.now() });
        await store.release({ resourceId: 'page:1', token: 'token-1', now: Date.now() });
        // A second store over the same client does not say it again.
        await grant(createRedisLockStore({ client, prefix }), Date.now(), 'token-2');
        await vi.waitFor(() => expect(warn).toHaveBeenCalled());
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(warn).toHaveBeenCalledTimes(1);
        const message = String(warn.mock.calls[0]?.[0]);
        expect(message).toMatch(/^\[page-lock\] \[redis\] /);
        expect(message).toContain('appendonly yes');
        expect(message).toContain('a restart resets every fence');
        expect(message).toContain('warnIfVolatile: false');
      } finally {
        await client.quit();
      }
    });

    it('says nothing with warnIfVolatile: false, or when CONFIG is refused', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const client = new Redis(url as string);
      try {
        const silenced = createRedisLockStore({ client, prefix, warnIfVolatile: false });
        await grant(silenced, Date.now(), 'token-1');
        await silenced.get('page:1', { now: Date.now() });
        // A managed Redis that renamed CONFIG away.
        const refusing = createRedisLockStore({
          client: {
            evalsha: (...args) => client.evalsha(...args),
            eval: (...args) => client.eval(...args),
            scan: (...args) => client.scan(...args),
            config: async () => {
              throw new Error("ERR unknown command 'CONFIG'");
            },
          },
          prefix,
        });
        await refusing.get('page:1', { now: Date.now() });
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(warn).not.toHaveBeenCalled();
      } finally {
        await client.quit();
      }
    });
  });

  it('acquires for a holder whose name holds a NUL or a lone surrogate, and shows it sanitized', async () => {
    const odd: LockUser = { id: 'odd', name: 'Al\u0000ice \ud800x', avatarUrl: '/a\udc00.png' };
    const service = createLockService({
      store: createRedisLockStore({ client: redis, prefix, warnIfVolatile: false }),
    });
    const handler = createLockHandler({ service, basePath: '/api/locks', getUser: () => odd });
    const response = await handler(
      new Request('http://admin.test/api/locks/page%3A1', {
        method: 'POST',
        headers: { Host: 'admin.test', 'Content-Type': 'application/json' },
        body: JSON.stringify({ clientId: 'tab-odd' }),
      }),
    );
    expect(response.status).toBe(200);
    const shown = { id: 'odd', name: 'Alice \ufffdx', avatarUrl: '/a\ufffd.png' };
    expect((await response.json()).lock.holder).toEqual(shown);
    const status = await service.get('page:1');
    expect(status.status === 'locked' && status.lock.holder).toEqual(shown);
  });
});

describe.skipIf(!url)('createRedisLockStore: the line in the state hash', () => {
  const alice: LockUser = { id: 'alice', name: 'Alice' };
  const bob: LockUser = { id: 'bob', name: 'Bob', avatarUrl: '/avatars/bob.png' };
  const carol: LockUser = { id: 'carol', name: 'Carol' };
  const TTL = 90_000;
  let redis: Redis;
  let prefix: string;
  let store: LockStore;
  beforeEach(() => {
    redis = new Redis(url as string);
    prefix = `page-lock-test:${randomBytes(6).toString('hex')}:`;
    store = createRedisLockStore({ client: redis, prefix, ...byTheSuiteClock });
  });
  afterEach(async () => {
    const keys = await keysUnder(redis, prefix);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  const stateKey = (resourceId = 'page:1') => `${prefix}{${resourceId}}:state`;
  const ask = (
    holder: LockUser,
    clientId: string,
    now: number,
    extra: Partial<StoreAskInput> = {},
  ) =>
    line(store).ask({
      resourceId: 'page:1',
      holder,
      clientId,
      waiterId: `w-${clientId}`,
      message: null,
      renew: false,
      ttl: TTL,
      askTimeout: 120_000,
      newToken: `t-${clientId}-${now}`,
      maxQueue: 50,
      queueGrace: 30_000,
      now,
      ...extra,
    });
  const aliceHolds = (now: number) =>
    store.acquire({
      resourceId: 'page:1',
      holder: alice,
      clientId: 'tab-a',
      newToken: 'token-a',
      now,
      ttl: TTL,
    });

  it('keeps the line as the hash field "queue" (JSON, numbers and texts exact), and no field when nobody waits', async () => {
    const t = 1_700_000_000_123;
    await aliceHolds(t);
    expect(await redis.hexists(stateKey(), 'queue')).toBe(0);
    const note = 'Let me fix the typo / “quotes” \\ back\u2028slash 🙂';
    const queued = await ask(bob, 'tab-b', t + 1, { message: note });
    await ask(carol, 'tab-c', t + 2); // message: null
    expect(queued).toMatchObject({ outcome: 'queued', place: 1 });
    const stored = JSON.parse((await redis.hget(stateKey(), 'queue')) as string);
    expect(stored).toHaveLength(2);
    expect(stored[0]).toMatchObject({ clientId: 'tab-b', askedAt: String(t + 1), userId: 'bob' });

    const lock = await store.get('page:1', { now: t + 3 });
    expect(lock?.queue).toEqual([
      {
        id: 'w-tab-b',
        user: bob,
        clientId: 'tab-b',
        askedAt: t + 1,
        expiresAt: t + 1 + TTL,
        message: note,
        request: 'pending',
        requestExpiresAt: t + 1 + 120_000,
      },
      {
        id: 'w-tab-c',
        user: carol,
        clientId: 'tab-c',
        askedAt: t + 2,
        expiresAt: t + 2 + TTL,
        message: null,
        request: 'pending',
        requestExpiresAt: t + 2 + 120_000,
      },
    ]);
    expect((await store.getMany(['page:1'], { now: t + 3 })).get('page:1')).toEqual(lock);
    expect(await store.list({ now: t + 3 })).toEqual([lock]);
    const check = await store.check({ resourceId: 'page:1', token: 'token-a', now: t + 3 });
    expect(check).toEqual({ outcome: 'live', lock, now: t + 3 });

    // Both leave: the field goes (an empty Lua table would be written `{}`, not `[]`).
    await line(store).leave({ resourceId: 'page:1', clientId: 'tab-b', now: t + 4 });
    await line(store).leave({ resourceId: 'page:1', clientId: 'tab-c', now: t + 5 });
    expect(await redis.hexists(stateKey(), 'queue')).toBe(0);
    expect((await store.get('page:1', { now: t + 6 }))?.queue).toBeUndefined();
  });

  it('keeps texts cjson could not (a lone surrogate, an empty array look-alike) exactly as given', async () => {
    await aliceHolds(1000);
    const odd: LockUser = { id: 'odd\ud800', name: '[]', avatarUrl: '{}' };
    const queued = await ask(odd, 'tab-odd', 1001, { message: 'half \udc00 a pair' });
    expect(queued.outcome === 'queued' && queued.waiter).toMatchObject({
      user: odd,
      message: 'half \udc00 a pair',
    });
    const passed = await store.release({ resourceId: 'page:1', token: 'token-a', now: 1002 });
    expect(passed).toMatchObject({ outcome: 'released', passedTo: { holder: odd, token: '' } });
    const taken = await ask(odd, 'tab-odd', 1003, { renew: true });
    expect(taken).toMatchObject({ outcome: 'reclaimed', lock: { holder: odd, fence: 2 } });
  });

  it('lets Redis collect the state only a margin after the last live lease in it, a waiting place’s too', async () => {
    const gc = createRedisLockStore({ client: redis, prefix, clock: 'service', gcMargin: 5_000 });
    const t = Date.now();
    await gc.acquire({
      resourceId: 'page:1',
      holder: alice,
      clientId: 'tab-a',
      newToken: 'a',
      now: t,
      ttl: 1_000,
    });
    expect(await redis.pttl(stateKey())).toBeLessThanOrEqual(6_000);
    // Bob's place lasts a minute: the hash outlives Alice's lease by that much.
    await line(gc).ask({
      resourceId: 'page:1',
      holder: bob,
      clientId: 'tab-b',
      waiterId: 'w-b',
      message: null,
      renew: false,
      ttl: 60_000,
      askTimeout: 120_000,
      newToken: 'b',
      maxQueue: 50,
      now: t,
    });
    expect(await redis.pttl(stateKey())).toBeGreaterThan(60_000);
    expect(await redis.pttl(stateKey())).toBeLessThanOrEqual(65_000);
    // A refresh of the grant (which cannot take the fast path while someone waits) keeps it so.
    await gc.acquire({
      resourceId: 'page:1',
      holder: alice,
      clientId: 'tab-a',
      token: 'a',
      newToken: 'x',
      now: t + 10,
      ttl: 1_000,
    });
    expect(await redis.pttl(stateKey())).toBeGreaterThan(60_000);
  });

  it('refreshes a holder with waiters through the full rules: the answer carries the line, departed places dropped', async () => {
    await aliceHolds(1000);
    await ask(bob, 'tab-b', 1001, { ttl: 100 });
    await ask(carol, 'tab-c', 1002);
    const refreshed = await store.acquire({
      resourceId: 'page:1',
      holder: alice,
      clientId: 'tab-a',
      token: 'token-a',
      newToken: 'unused',
      now: 2000,
      ttl: TTL,
    });
    expect(refreshed).toMatchObject({
      outcome: 'refreshed',
      lock: { token: 'token-a', expiresAt: 2000 + TTL },
    });
    expect(
      refreshed.outcome === 'refreshed' && refreshed.lock.queue?.map((w) => w.clientId),
    ).toEqual(['tab-c']);
    // Without waiters the fast path answers, with no line.
    await line(store).leave({ resourceId: 'page:1', clientId: 'tab-c', now: 2001 });
    const fast = await store.acquire({
      resourceId: 'page:1',
      holder: alice,
      clientId: 'tab-a',
      token: 'token-a',
      newToken: 'unused',
      now: 2002,
      ttl: TTL,
    });
    expect(fast.outcome === 'refreshed' && fast.lock).toEqual({
      resourceId: 'page:1',
      holder: alice,
      clientId: 'tab-a',
      token: 'token-a',
      fence: 1,
      since: 1000,
      acquiredAt: 1000,
      expiresAt: 2002 + TTL,
    });
  });

  it('never matches an empty token: not the passed grant’s, not by refresh, release or answer', async () => {
    await aliceHolds(1000);
    await ask(bob, 'tab-b', 1001);
    await ask(carol, 'tab-c', 1002);
    await store.release({ resourceId: 'page:1', token: 'token-a', now: 1003 });
    const passed = await store.get('page:1', { now: 1004 });
    expect(passed).toMatchObject({ holder: bob, token: '', fence: 2 });
    const refresh = await store.acquire({
      resourceId: 'page:1',
      holder: bob,
      clientId: 'tab-b',
      token: '',
      newToken: 'nope',
      now: 1005,
      ttl: TTL,
    });
    expect(refresh.outcome).toBe('dead-token');
    expect((await store.release({ resourceId: 'page:1', token: '', now: 1006 })).outcome).toBe(
      'not-holder',
    );
    const answer = await line(store).answer({
      resourceId: 'page:1',
      token: '',
      waiterId: 'w-tab-c',
      answer: 'hand-over',
      now: 1007,
    });
    expect(answer.outcome).toBe('not-holder');
    expect(await store.get('page:1', { now: 1008 })).toEqual(passed);
  });

  it("decides the line by Redis' clock (TIME in the script) when the store keeps its own clock", async () => {
    const own = createRedisLockStore({ client: redis, prefix, warnIfVolatile: false });
    const held = await own.acquire({
      resourceId: 'page:1',
      holder: alice,
      clientId: 'tab-a',
      newToken: 'token-a',
      now: 0,
      ttl: 60_000,
    });
    // The service's clock a day behind: ignored, the place is measured on Redis' clock.
    const queued = await line(own).ask({
      resourceId: 'page:1',
      holder: bob,
      clientId: 'tab-b',
      waiterId: 'w-b',
      message: null,
      renew: false,
      ttl: 60_000,
      askTimeout: 120_000,
      newToken: 'b',
      maxQueue: 50,
      now: Date.now() - 86_400_000,
    });
    if (queued.outcome !== 'queued') throw new Error(`expected queued, got ${queued.outcome}`);
    expect(queued.now).toBeGreaterThanOrEqual(held.now);
    expect(queued.waiter).toMatchObject({ askedAt: queued.now, expiresAt: queued.now + 60_000 });
    const handed = await line(own).answer({
      resourceId: 'page:1',
      token: 'token-a',
      waiterId: 'w-b',
      answer: 'hand-over',
      now: 0,
    });
    expect(handed).toMatchObject({
      outcome: 'handed-over',
      lock: { holder: bob, token: '', fence: 2, since: handed.now, expiresAt: handed.now + 30_000 },
    });
    const left = await line(own).leave({ resourceId: 'page:1', clientId: 'tab-x', now: 0 });
    expect(left.outcome).toBe('not-queued');
    expect(left.now).toBeGreaterThanOrEqual(handed.now);
  });

  it('refuses a line it did not write, naming the field', async () => {
    await aliceHolds(1000);
    await redis.hset(stateKey(), 'queue', '{}');
    await expect(store.get('page:1', { now: 1001 })).rejects.toThrow(
      '[page-lock] [redis] A resource\'s line (the state hash\'s "queue" field) is not what the store writes',
    );
  });

  it(`decides ${LINE_STEPS} random calls, the line's among them, exactly like the shared rules (seed ${LINE_SEED})`, async () => {
    const reference = createMemoryLockStore();
    const disagreements = await raceHistory(reference, store);
    expect(disagreements.mismatches.slice(0, 3)).toEqual([]);
    // The history reached every answer the line can give, or agreeing would prove little.
    for (const outcome of [
      'ask queued',
      'ask reclaimed',
      'ask free',
      'ask self',
      'ask queue-full',
      'answer handed-over',
      'answer declined',
      'answer not-holder',
      'answer not-queued',
      'leave left',
      'leave not-queued',
      'release passed on',
      'release released',
      'acquire granted',
      'acquire locked',
      'acquire refreshed',
      'acquire reclaimed',
      'acquire dead-token expired',
      'acquire dead-token handed-over',
      'takeOver granted',
      'forceRelease passed on',
    ]) {
      expect(disagreements.outcomes).toContain(outcome);
    }
  }, 60_000);
});

const LINE_STEPS = 2_000;
const LINE_SEED = Number(process.env.PAGE_LOCK_DIFF_SEED ?? 20_261_212);

/** A store's optional line operations, there (every built-in store has them). */
function line(store: LockStore): Required<Pick<LockStore, 'ask' | 'answer' | 'leave'>> {
  const { ask, answer, leave } = store;
  if (!ask || !answer || !leave) throw new Error('expected a store with the line');
  return {
    ask: ask.bind(store),
    answer: answer.bind(store),
    leave: leave.bind(store),
  };
}

/** JSON with sorted keys, so two stores' answers compare whatever order they built them in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

/**
 * One seeded history of every call, the line's included, on two resources, through `reference`
 * (the shared rules) and `subject` alike; each answer and then the resource as read must agree.
 * Short leases and places, so grants lapse, places depart and pages pass on all the time.
 */
async function raceHistory(
  reference: LockStore,
  subject: LockStore,
): Promise<{ mismatches: string[]; outcomes: Set<string> }> {
  let state = LINE_SEED >>> 0;
  const random = (below: number): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return Math.floor((state / 2 ** 32) * below);
  };
  const pickOf = <T>(items: readonly T[]): T => items[random(items.length)] as T;
  const users: LockUser[] = [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob', avatarUrl: '/bob.png' },
    { id: 'carol', name: 'Carol "C" ünï' },
    { id: 'dan', name: 'Dan' },
  ];
  const messages = [null, 'Can I edit?', 'slash / quote " back \\ 🙂', '   '];
  const tokens: string[] = [];
  /** Tokens the history saw end (released, taken over, handed over), so dead tokens get each reason. */
  const ended: string[] = [];
  const waiterIds: string[] = [];
  const mismatches: string[] = [];
  const outcomes = new Set<string>();
  let now = 1_700_000_000_000;

  for (let step = 0; step < LINE_STEPS && mismatches.length < 3; step++) {
    now += random(30);
    const resourceId = pickOf(['page:1', 'page/2']);
    const current = await reference.get(resourceId, { now });
    const holder = pickOf(users);
    const clientId = `${holder.id}-${random(2)}`;
    const token = pickOf([
      current?.token,
      current?.token,
      pickOf([...tokens.slice(-10), '']),
      pickOf(ended.length > 0 ? ended.slice(-4) : ['']),
      undefined,
    ]);
    const waiterId =
      random(4) === 0
        ? pickOf([...waiterIds.slice(-6), 'nobody'])
        : (current?.queue?.[random(current.queue.length)]?.id ?? 'nobody');
    const queueGrace = random(6) === 0 ? undefined : 40;
    const newToken = `token-${step}`;
    const kind = pickOf([
      'acquire',
      'acquire',
      'release',
      'takeOver',
      'forceRelease',
      'ask',
      'ask',
      'ask',
      'answer',
      'answer',
      'leave',
    ]);
    // Every choice is drawn before the call, so both stores get exactly the same one.
    const expectedFence = random(5) === 0 ? random(30) : (current?.fence ?? 0);
    const expectFree = random(2) === 0;
    const message = pickOf(messages);
    const renew = random(2) === 0;
    const placeTtl = 60 + random(60);
    const answer = random(3) === 0 ? 'decline' : 'hand-over';
    const leaving = random(3) === 0 ? clientId : (current?.queue?.[0]?.clientId ?? clientId);
    const run = (store: LockStore): Promise<unknown> => {
      switch (kind) {
        case 'acquire':
          return store.acquire({
            resourceId,
            holder,
            clientId,
            token,
            newToken,
            now,
            ttl: 100,
            queueGrace,
          });
        case 'release':
          return store.release({ resourceId, token: token ?? '', now, queueGrace });
        case 'takeOver':
          return store.takeOver({
            resourceId,
            holder,
            clientId,
            expectedFence,
            expectFree,
            newToken,
            now,
            ttl: 100,
            queueGrace,
          });
        case 'forceRelease':
          return store.forceRelease(resourceId, { now, queueGrace });
        case 'ask':
          return line(store).ask({
            resourceId,
            holder,
            clientId,
            waiterId: `waiter-${step}`,
            message,
            renew,
            ttl: placeTtl,
            askTimeout: 50,
            newToken,
            maxQueue: 2,
            now,
            queueGrace,
          });
        case 'answer':
          return line(store).answer({
            resourceId,
            token: token ?? '',
            waiterId,
            answer,
            now,
            queueGrace,
          });
        default:
          return line(store).leave({
            resourceId,
            clientId: leaving,
            now,
            queueGrace,
          });
      }
    };
    const expected = await run(reference);
    const actual = await run(subject);
    const result = expected as {
      outcome?: string;
      ending?: string;
      passedTo?: unknown;
      lock?: StoredLock;
      replaced?: StoredLock | null;
    } | null;
    if (result?.replaced) ended.push(result.replaced.token);
    if (result?.outcome === 'released' && result.lock) ended.push(result.lock.token);
    if (result && typeof result === 'object' && 'outcome' in result) {
      const passed = result.passedTo ? 'passed on' : result.outcome;
      outcomes.add(`${kind} ${result.ending ? `${passed} ${result.ending}` : passed}`);
    } else if (kind === 'forceRelease') {
      const after = await reference.get(resourceId, { now });
      if (after?.token === '') outcomes.add('forceRelease passed on');
    }
    if (canonical(actual) !== canonical(expected)) {
      mismatches.push(`step ${step}, ${kind}: ${canonical(actual)} ≠ ${canonical(expected)}`);
    }
    for (const id of ['page:1', 'page/2']) {
      const [read, want] = [await subject.get(id, { now }), await reference.get(id, { now })];
      if (canonical(read) !== canonical(want)) {
        mismatches.push(
          `step ${step}, after ${kind}, get ${id}: ${canonical(read)} ≠ ${canonical(want)}`,
        );
      }
    }
    tokens.push(newToken);
    waiterIds.push(`waiter-${step}`);
  }
  return { mismatches, outcomes };
}
