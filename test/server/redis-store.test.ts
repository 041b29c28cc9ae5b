import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisLockStore } from '../../server-adapter/redis';
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

if (!url) {
  it.skip('Redis store: set PAGE_LOCK_REDIS_URL=redis://127.0.0.1:6379 to run these tests');
} else {
  runLockStoreContract(
    'redis',
    () => {
      const prefix = `page-lock-test:${randomBytes(6).toString('hex')}:`;
      const clients = [new Redis(url)];
      return {
        store: createRedisLockStore({ client: clients[0] as Redis, prefix }),
        // A resource's keys (its state and its fence) share one hash tag: one record each.
        countRecords: async () =>
          new Set((await keysUnder(clients[0] as Redis, prefix)).map((key) => key.split('}')[0]))
            .size,
        reopen: async () => {
          const client = new Redis(url);
          clients.push(client);
          return createRedisLockStore({ client, prefix });
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
  });

  it('lets Redis collect the state a margin after the lease, but never the fence', async () => {
    const store = createRedisLockStore({ client: redis, prefix, gcMargin: 5_000 });
    await grant(store, Date.now(), 'token-1');
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
    const store = createRedisLockStore({ client: redis, prefix });
    await redis.script('FLUSH');
    expect((await grant(store, Date.now(), 'token-1')).outcome).toBe('granted');
  });
});
