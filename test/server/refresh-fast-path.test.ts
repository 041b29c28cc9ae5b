import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { splitRequestUrl } from '../../server-adapter/handler/routes';
import {
  createPostgresLockStore,
  type PostgresLockPool,
  type PostgresNamedQuery,
  type PostgresQueryResult,
} from '../../server-adapter/postgres';
import { quoteLiteral } from '../../server-adapter/postgres/postgres-store';
import { createRedisLockStore } from '../../server-adapter/redis';
import type { RedisLockClient } from '../../server-adapter/redis/redis-lock-client';
import { createSqliteLockStore } from '../../server-adapter/sqlite';
import type { LockStore, StoreAcquireInput } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';

/**
 * Issue 14: a refresh of a live lease by its holder takes a fast path in every store (one
 * conditional UPDATE in SQLite, one named statement in Postgres, a small script of its own in
 * Redis), and every other Postgres change takes at most two round trips. The answers are the
 * rule path's (the contract suite and the differential test check them at length); these tests
 * check the cases at the edge of the fast path, and how many round trips a call takes.
 */

const redisUrl = process.env.PAGE_LOCK_REDIS_URL;
const postgresUrl = process.env.PAGE_LOCK_POSTGRES_URL;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const alice = { id: 'alice', name: 'Alice' };
const aliceRenamed = { id: 'alice', name: 'Alice Liddell', avatarUrl: '/alice.png' };
const bob = { id: 'bob', name: 'Bob' };

const at = (now: number, input: Omit<StoreAcquireInput, 'now' | 'ttl'> & { ttl?: number }) => ({
  ttl: 1_000,
  ...input,
  now,
});

/** Runs the same history on `store` and on the memory store, and compares every answer. */
async function sameAsMemory(store: LockStore, resourceId: string): Promise<void> {
  const memory = createMemoryLockStore();
  const both = async <T>(call: (s: LockStore) => Promise<T>): Promise<T> => {
    const [ours, theirs] = [await call(store), await call(memory)];
    expect(ours).toEqual(theirs);
    return ours;
  };
  const base = { resourceId, clientId: 'tab-1' };
  await both((s) => s.acquire(at(1_000, { ...base, holder: alice, newToken: 't1' })));
  // Live, same holder (renamed): the fast path; its holder text is the new one.
  await both((s) =>
    s.acquire(at(1_500.25, { ...base, holder: aliceRenamed, token: 't1', newToken: 'x' })),
  );
  // A fractional ttl.
  await both((s) =>
    s.acquire(at(1_600, { ...base, holder: alice, token: 't1', newToken: 'x', ttl: 700.5 })),
  );
  // Exactly at expiresAt (2 300.5) the lease has lapsed: no fast path, a resume.
  await both((s) => s.acquire(at(2_300.5, { ...base, holder: alice, token: 't1', newToken: 'x' })));
  // Another user presenting the holder's token: not the holder, a dead token.
  await both((s) =>
    s.acquire(at(2_400, { ...base, clientId: 'tab-2', holder: bob, token: 't1', newToken: 'y' })),
  );
  // A made-up token: dead.
  await both((s) => s.acquire(at(2_500, { ...base, holder: alice, token: 'nope', newToken: 'z' })));
  await both((s) => s.release({ resourceId, token: 't1', now: 2_600 }));
  // A released token: dead, with its reason.
  await both((s) => s.acquire(at(2_700, { ...base, holder: alice, token: 't1', newToken: 'w' })));
  await both((s) => s.get(resourceId, { now: 2_700 }));
}

describe('the SQLite refresh fast path', () => {
  it('answers like the rules at the edges of the fast path', async () => {
    const store = createSqliteLockStore({ filename: ':memory:' });
    cleanups.push(() => store.close());
    await sameAsMemory(store, 'page:1');
  });
});

describe.skipIf(!redisUrl)('the Redis refresh fast path', () => {
  const makeClient = () => {
    const client = new Redis(redisUrl as string);
    const prefix = `page-lock-fast:${randomBytes(6).toString('hex')}:`;
    cleanups.push(async () => {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    });
    return { client, prefix };
  };

  it('answers like the rules at the edges of the fast path', async () => {
    const { client, prefix } = makeClient();
    const store = createRedisLockStore({ client, prefix, clock: 'service', warnIfVolatile: false });
    await sameAsMemory(store, 'page:1');
  });

  it('is one script call by Redis’ clock, which moves the lease and the key’s expiry', async () => {
    const { client, prefix } = makeClient();
    let calls = 0;
    const counting: RedisLockClient = {
      evalsha: (...args) => {
        calls++;
        return client.evalsha(...args);
      },
      eval: (...args) => {
        calls++;
        return client.eval(...args);
      },
      scan: (...args) => client.scan(...args),
    };
    const store = createRedisLockStore({ client: counting, prefix, gcMargin: 60_000 });
    const input = { resourceId: 'page:1', clientId: 'tab-1', newToken: 't1' };
    const held = await store.acquire(at(0, { ...input, holder: alice, ttl: 30_000 }));
    calls = 0;
    const refreshed = await store.acquire(
      at(0, { ...input, holder: aliceRenamed, token: 't1', ttl: 30_000 }),
    );
    expect(calls).toBe(1);
    expect(refreshed.outcome).toBe('refreshed');
    if (held.outcome !== 'granted' || refreshed.outcome !== 'refreshed') return;
    expect(refreshed.lock).toEqual({
      ...held.lock,
      holder: aliceRenamed,
      expiresAt: refreshed.now + 30_000,
    });
    const ttl = await client.pttl(`${prefix}{page:1}:state`);
    expect(ttl).toBeGreaterThan(60_000 + 25_000);
    expect(ttl).toBeLessThanOrEqual(60_000 + 30_000);
  });

  it('keeps a live line in one call, and leaves a lapsed place to the rules (two calls)', async () => {
    const { client, prefix } = makeClient();
    const scripts: string[] = [];
    const counting: RedisLockClient = {
      evalsha: (sha, ...rest) => {
        scripts.push(sha);
        return client.evalsha(sha, ...rest);
      },
      eval: (...args) => client.eval(...args),
      scan: (...args) => client.scan(...args),
    };
    const store = createRedisLockStore({ client: counting, prefix, clock: 'service' });
    const memory = createMemoryLockStore();
    const both = async <T>(call: (s: LockStore) => Promise<T>): Promise<T> => {
      scripts.length = 0;
      const [ours, theirs] = [await call(store), await call(memory)];
      expect(ours).toEqual(theirs);
      return ours;
    };
    const base = { resourceId: 'page:1', clientId: 'tab-1', holder: alice };
    await both((s) => s.acquire(at(1_000, { ...base, newToken: 't1' })));
    const ask = { resourceId: 'page:1', holder: bob, clientId: 'tab-2', waiterId: 'w1' };
    await both((s) =>
      (s.ask as NonNullable<LockStore['ask']>)({
        ...ask,
        message: null,
        renew: false,
        ttl: 1_000, // Bob's place lapses at 2 100
        askTimeout: 500,
        newToken: 'n1',
        maxQueue: 50,
        now: 1_100,
      }),
    );

    const withLine = await both((s) =>
      s.acquire(at(1_900, { ...base, token: 't1', newToken: 'x' })),
    );
    expect(withLine).toMatchObject({ outcome: 'refreshed', lock: { queue: [{ id: 'w1' }] } });
    expect(scripts).toHaveLength(1);
    const refreshScript = scripts[0];

    // At 2 500 Alice's lease (to 2 900) is live and Bob's place is not: the rules drop it.
    const settled = await both((s) =>
      s.acquire(at(2_500, { ...base, token: 't1', newToken: 'x' })),
    );
    expect(settled).toMatchObject({ outcome: 'refreshed', lock: { expiresAt: 3_500 } });
    expect(settled.outcome === 'refreshed' && settled.lock.queue).toBeFalsy();
    expect(scripts).toHaveLength(2);
    expect(scripts[0]).toBe(refreshScript);
    expect(scripts[1]).not.toBe(refreshScript);

    // Nobody waits any more: one call again.
    await both((s) => s.acquire(at(2_600, { ...base, token: 't1', newToken: 'x' })));
    expect(scripts).toEqual([refreshScript]);
  });
});

describe.skipIf(!postgresUrl)('the Postgres fast path and round trips', () => {
  const makePool = async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
    pool.on('error', () => {});
    const table = `page_lock_fast_${randomBytes(6).toString('hex')}`;
    cleanups.push(async () => {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    });
    return { pool, table };
  };

  /** A pool that counts round trips: queries on the pool and on each connection it lends. */
  const counting = (pool: pg.Pool) => {
    const trips = { pool: 0, connection: 0, connections: 0 };
    /** The names of the prepared statements the pool was asked to run, in order. */
    const prepared: string[] = [];
    const wrapped: PostgresLockPool = {
      query: (query: string | PostgresNamedQuery, values?: unknown[]) => {
        trips.pool++;
        if (typeof query !== 'string') prepared.push(query.name);
        return (
          typeof query === 'string' ? pool.query(query, values) : pool.query(query)
        ) as Promise<PostgresQueryResult>;
      },
      connect: async () => {
        trips.connections++;
        const db = await pool.connect();
        return {
          query: (text: string, values?: unknown[]) => {
            trips.connection++;
            return db.query(text, values) as unknown as Promise<PostgresQueryResult>;
          },
          release: (error?: Error | boolean) => db.release(error),
          on: (event: 'error', listener: (error: Error) => void) => db.on(event, listener),
          off: (event: 'error', listener: (error: Error) => void) => db.off(event, listener),
        };
      },
    };
    const reset = () => {
      prepared.length = 0;
      trips.pool = 0;
      trips.connection = 0;
      trips.connections = 0;
    };
    return { wrapped, trips, prepared, reset };
  };

  it('sends no named statement with preparedStatements: false, and answers alike', async () => {
    const { pool, table } = await makePool();
    const { wrapped, trips, prepared, reset } = counting(pool);
    const store = createPostgresLockStore({ pool: wrapped, table, preparedStatements: false });
    await store.migrate();
    const input = { resourceId: 'page:1', clientId: 'tab-1', ttl: 30_000, holder: alice };
    const held = await store.acquire({ ...input, newToken: 't1', now: 0 });
    reset();
    const refreshed = await store.acquire({ ...input, token: 't1', newToken: 'x', now: 0 });
    expect(refreshed.outcome).toBe('refreshed');
    expect(trips).toEqual({ pool: 1, connections: 0, connection: 0 });
    expect(await store.get('page:1', { now: 0 })).toMatchObject({ token: 't1', fence: 1 });
    expect(prepared).toEqual([]);
    expect(held.outcome).toBe('granted');
    expect(() =>
      createPostgresLockStore({ pool, table, preparedStatements: 'yes' as unknown as boolean }),
    ).toThrow('[page-lock] [postgres] Option "preparedStatements" must be true or false');
  });

  it('answers like the rules at the edges of the fast path, by the service’s clock', async () => {
    const { pool, table } = await makePool();
    const store = createPostgresLockStore({ pool, table, clock: 'service' });
    await store.migrate();
    await sameAsMemory(store, 'page:1');
  });

  it('refreshes in one statement, and changes in two round trips, by Postgres’ clock', async () => {
    const { pool, table } = await makePool();
    const { wrapped, trips, prepared, reset } = counting(pool);
    const store = createPostgresLockStore({ pool: wrapped, table });
    await store.migrate();
    const input = { resourceId: 'page:1', clientId: 'tab-1', ttl: 30_000 };

    reset();
    const held = await store.acquire({ ...input, holder: alice, newToken: 't1', now: 0 });
    expect(held.outcome).toBe('granted');
    expect(trips).toEqual({ pool: 0, connections: 1, connection: 2 });

    reset();
    const refreshed = await store.acquire({
      ...input,
      holder: aliceRenamed,
      token: 't1',
      newToken: 'x',
      now: 0,
    });
    expect(trips).toEqual({ pool: 1, connections: 0, connection: 0 });
    // A named statement: Postgres plans it once per connection, not at every refresh.
    expect(prepared).toEqual([expect.stringMatching(/^page_lock_[0-9a-f]{16}$/)]);
    const refreshName = prepared[0];
    expect(refreshed.outcome).toBe('refreshed');
    if (held.outcome !== 'granted' || refreshed.outcome !== 'refreshed') return;
    expect(refreshed.now).toBeGreaterThanOrEqual(held.now);
    expect(refreshed.lock).toEqual({
      ...held.lock,
      holder: aliceRenamed,
      expiresAt: refreshed.now + 30_000,
    });
    const row = (await pool.query(`SELECT expires_at FROM ${table}`)).rows[0];
    expect(Number(row.expires_at)).toBe(refreshed.lock.expiresAt);

    // Not the holder: the fast path finds nothing, and the rules answer (1 + 2 round trips).
    reset();
    const denied = await store.acquire({
      ...input,
      clientId: 'tab-2',
      holder: bob,
      token: 't1',
      newToken: 'y',
      now: 0,
    });
    expect(denied).toMatchObject({ outcome: 'dead-token', ending: null });
    expect(trips).toEqual({ pool: 1, connections: 1, connection: 2 });
    // The same statement again, by the same name.
    expect(prepared).toEqual([refreshName]);

    reset();
    expect((await store.acquire({ ...input, holder: bob, newToken: 'z', now: 0 })).outcome).toBe(
      'locked',
    );
    expect(trips).toEqual({ pool: 0, connections: 1, connection: 2 });

    reset();
    const taken = await store.takeOver({
      ...input,
      holder: bob,
      clientId: 'tab-2',
      expectedFence: 1,
      newToken: 'b1',
      now: 0,
    });
    expect(taken.outcome).toBe('granted');
    expect(trips).toEqual({ pool: 0, connections: 1, connection: 2 });

    reset();
    expect((await store.release({ resourceId: 'page:1', token: 'b1', now: 0 })).outcome).toBe(
      'released',
    );
    expect(trips).toEqual({ pool: 0, connections: 1, connection: 2 });

    // A fractional ttl by Postgres' clock takes the rules (exact arithmetic), with one grant.
    const fractional = await store.acquire({
      ...input,
      ttl: 1_500.5,
      holder: alice,
      newToken: 'f1',
      now: 0,
    });
    const again = await store.acquire({
      ...input,
      ttl: 1_500.5,
      holder: alice,
      token: 'f1',
      newToken: 'x',
      now: 0,
    });
    expect(again.outcome).toBe('refreshed');
    if (fractional.outcome !== 'granted' || again.outcome !== 'refreshed') return;
    expect(again.lock.expiresAt).toBe(again.now + 1_500.5);
    expect(again.lock.fence).toBe(fractional.lock.fence);
  });

  it('keeps ids with quotes, backslashes and SQL in them exactly as given', async () => {
    const { pool, table } = await makePool();
    const store = createPostgresLockStore({ pool, table, clock: 'service' });
    await store.migrate();
    const ids = [
      "it's",
      'back\\slash',
      "\\'; DROP TABLE x; --",
      '$$ dollar $$',
      "E'x\\'",
      'page:ünï©ødé 🙂',
    ];
    for (const [i, resourceId] of ids.entries()) {
      const input = { resourceId, clientId: `tab-${i}`, holder: alice, ttl: 1_000 };
      const held = await store.acquire({ ...input, newToken: `t${i}`, now: 1_000 });
      expect(held.outcome).toBe('granted');
      const refreshed = await store.acquire({
        ...input,
        token: `t${i}`,
        newToken: 'x',
        now: 1_100,
      });
      expect(refreshed.outcome).toBe('refreshed');
      expect((await store.get(resourceId, { now: 1_200 }))?.resourceId).toBe(resourceId);
      expect((await store.release({ resourceId, token: `t${i}`, now: 1_300 })).outcome).toBe(
        'released',
      );
    }
    const { rows } = await pool.query(`SELECT resource_id FROM ${table} ORDER BY resource_id`);
    expect(rows.map((r) => r.resource_id).sort()).toEqual([...ids].sort());
  });

  it('quotes literals the way Postgres reads them back, and refuses a NUL', async () => {
    const { pool } = await makePool();
    for (const text of ["a'b", 'a\\b', "\\'", '', 'plain', "''\\\\''"]) {
      const { rows } = await pool.query(`SELECT ${quoteLiteral(text)}::text AS v`);
      expect(rows[0].v).toBe(text);
    }
    expect(() => quoteLiteral('a\u0000b')).toThrow(/NUL/);
  });
});

describe('splitRequestUrl', () => {
  it('gives the pathname and search new URL() gives, for what a Request serializes', () => {
    const urls = [
      'http://admin.test/api/locks/page%3A1',
      'https://admin.test:8443/api/locks/page%2F2/release',
      'http://127.0.0.1:3000/api/locks?ids=a&ids=b%20c',
      'http://[::1]:3000/api/locks/x?clientId=tab-1#frag',
      'http://user:pa%2Fss@host/api/locks/x?',
      'http://host/api/locks/x#a?b',
      'http://host?q',
      'http://host/a/../api/locks/%E2%9C%93',
      'http://host/api/locks/ünï',
    ];
    for (const url of urls) {
      // What a Request keeps as its url (a Request refuses credentials; URL serializes alike).
      const serialized = new URL(url).href;
      const parsed = new URL(serialized);
      expect(splitRequestUrl(serialized)).toEqual({
        pathname: parsed.pathname,
        search: parsed.search,
      });
    }
  });
});
