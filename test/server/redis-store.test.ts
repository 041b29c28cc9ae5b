import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLockHandler, createLockService } from '../../server-adapter';
import { createRedisLockStore } from '../../server-adapter/redis';
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
