import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLockHandler, createLockService, LockStoreError } from '../../server-adapter';
import { createPostgresLockStore } from '../../server-adapter/postgres';
import type { LockUser } from '../../src/protocol/protocol';
import { runLockStoreContract } from '../contract';

const url = process.env.PAGE_LOCK_POSTGRES_URL;

function newPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {}); // a dropped idle connection is the pool's business, not the test's
  return pool;
}

if (!url) {
  it.skip(
    'Postgres store: set PAGE_LOCK_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run these tests',
  );
} else {
  runLockStoreContract(
    'postgres',
    async () => {
      const table = `page_lock_test_${randomBytes(6).toString('hex')}`;
      const pools = [newPool()];
      const admin = pools[0] as pg.Pool;
      const store = createPostgresLockStore({ pool: admin, table, clock: 'service' });
      await store.migrate();
      return {
        store,
        countRecords: async () =>
          Number((await admin.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n),
        reopen: async () => {
          const pool = newPool();
          pools.push(pool);
          return createPostgresLockStore({ pool, table, clock: 'service' });
        },
        cleanup: async () => {
          await admin.query(`DROP TABLE IF EXISTS ${table}`);
          await Promise.all(pools.map((pool) => pool.end()));
        },
      };
    },
    { describe, it, expect, beforeEach, afterEach },
  );
}

describe.skipIf(!url)('createPostgresLockStore', () => {
  let pool: pg.Pool;
  let table: string;
  beforeEach(() => {
    pool = newPool();
    table = `page_lock_test_${randomBytes(6).toString('hex')}`;
  });
  afterEach(async () => {
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
  });

  it('refuses bad options with a clear message', () => {
    // @ts-expect-error: no pool
    expect(() => createPostgresLockStore({})).toThrow(
      '[page-lock] [postgres] Missing option "pool"',
    );
    for (const bad of ['locks; DROP TABLE x', 'a"b', 'a.b.c', '', '1locks']) {
      expect(() => createPostgresLockStore({ pool, table: bad })).toThrow(
        '[page-lock] [postgres] Option "table" must be a plain SQL identifier',
      );
    }
    // @ts-expect-error: not a clock
    expect(() => createPostgresLockStore({ pool, clock: 'local' })).toThrow(
      '[page-lock] [postgres] Option "clock" must be "store" or "service"',
    );
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => createPostgresLockStore({ pool, lockTimeoutMs: bad })).toThrow(
        '[page-lock] [postgres] Option "lockTimeoutMs" must be a positive whole number of ms',
      );
    }
  });

  it('says to run migrate() when the table is missing', async () => {
    const store = createPostgresLockStore({ pool, table });
    await expect(store.get('page:1', { now: 0 })).rejects.toThrow(
      `[page-lock] [postgres] Table "${table}" does not exist: run store.migrate() once`,
    );
  });

  it('migrates idempotently, even from several instances at once, into a schema if asked', async () => {
    const stores = [1, 2, 3].map(() => createPostgresLockStore({ pool, table: `public.${table}` }));
    await Promise.all(stores.map((store) => store.migrate()));
    await (stores[0] as (typeof stores)[0]).migrate();
    const columns = await pool.query(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
      [table],
    );
    expect(columns.rows).toEqual([
      { column_name: 'resource_id', data_type: 'text' },
      { column_name: 'fence', data_type: 'bigint' },
      { column_name: 'lock', data_type: 'jsonb' },
      { column_name: 'expires_at', data_type: 'bigint' },
      { column_name: 'endings', data_type: 'jsonb' },
    ]);
  });

  it('keeps the row, and so the fence, after a release', async () => {
    const store = createPostgresLockStore({ pool, table, clock: 'service' });
    await store.migrate();
    const holder = { id: 'alice', name: 'Alice' };
    await store.acquire({
      resourceId: 'page:1',
      holder,
      clientId: 'tab-1',
      newToken: 'token-1',
      now: 1_000,
      ttl: 60_000,
    });
    await store.release({ resourceId: 'page:1', token: 'token-1', now: 2_000 });
    const { rows } = await pool.query(`SELECT fence, lock, expires_at FROM ${table}`);
    expect(rows).toEqual([{ fence: '1', lock: null, expires_at: null }]);
  });

  /** Postgres' own clock, epoch ms, as the store reads it. */
  const postgresNow = async (): Promise<number> =>
    Number(
      (await pool.query('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS n'))
        .rows[0].n,
    );

  const alice = { id: 'alice', name: 'Alice' };
  const acquireAt = (
    store: ReturnType<typeof createPostgresLockStore>,
    now: number,
    options: { holder?: LockUser; token?: string; newToken?: string } = {},
  ) =>
    store.acquire({
      resourceId: 'page:1',
      holder: options.holder ?? alice,
      clientId: `tab-${(options.holder ?? alice).id}`,
      token: options.token,
      newToken: options.newToken ?? 'token-1',
      now,
      ttl: 60_000,
    });

  it("decides every change by Postgres' own clock (clock_timestamp()) and reports it as now", async () => {
    const store = createPostgresLockStore({ pool, table });
    await store.migrate();
    const before = await postgresNow();
    // A service clock an hour ahead: ignored, the lease is measured on Postgres' clock.
    const held = await acquireAt(store, Date.now() + 3_600_000);
    const after = await postgresNow();
    if (held.outcome !== 'granted') throw new Error('expected a grant');
    expect(held.now).toBeGreaterThanOrEqual(before);
    expect(held.now).toBeLessThanOrEqual(after);
    expect(held.lock).toMatchObject({
      since: held.now,
      acquiredAt: held.now,
      expiresAt: held.now + 60_000,
    });
    // Another instance whose clock is past the lease by its own reckoning is still refused.
    const bob = await acquireAt(store, Date.now() + 3_600_000 + 61_000, {
      holder: { id: 'bob', name: 'Bob' },
      newToken: 'token-2',
    });
    expect(bob.outcome).toBe('locked');
    const refreshed = await acquireAt(store, 0, { token: 'token-1', newToken: 'token-3' });
    expect(refreshed.outcome).toBe('refreshed');
    expect(refreshed.lock?.expiresAt).toBe(refreshed.now + 60_000);
    expect(refreshed.now).toBeGreaterThanOrEqual(held.now);
    const released = await store.release({ resourceId: 'page:1', token: 'token-1', now: 0 });
    expect(released.outcome).toBe('released');
    expect(released.now).toBeGreaterThanOrEqual(refreshed.now);
  });

  it("judges reads and checks by Postgres' clock too, whatever now the service passes", async () => {
    const store = createPostgresLockStore({ pool, table });
    await store.migrate();
    const held = await acquireAt(store, Date.now());
    const farAhead = { now: Date.now() + 3_600_000 };
    expect(await store.get('page:1', farAhead)).toEqual(held.lock);
    expect([...(await store.getMany(['page:1'], farAhead)).keys()]).toEqual(['page:1']);
    expect((await store.list(farAhead)).map((lock) => lock.resourceId)).toEqual(['page:1']);
    const check = await store.check({ resourceId: 'page:1', token: 'token-1', ...farAhead });
    expect(check.outcome).toBe('live');
    expect(Math.abs(check.now - (await postgresNow()))).toBeLessThan(1_000);
    const unknown = await store.check({ resourceId: 'page:none', token: 'x', ...farAhead });
    expect(unknown).toEqual({ outcome: 'dead', ending: null, lock: null, now: unknown.now });
    // By the service's clock (the option), the same hour ahead says it lapsed.
    const byService = createPostgresLockStore({ pool, table, clock: 'service' });
    expect(await byService.get('page:1', farAhead)).toBeNull();
    expect(await byService.list(farAhead)).toEqual([]);
  });

  it('fails fast with a store error (lock_timeout) on a row another transaction holds, and serves other resources meanwhile', async () => {
    const store = createPostgresLockStore({ pool, table, lockTimeoutMs: 300 });
    await store.migrate();
    const service = createLockService({ store });
    const first = await service.acquire('page:held', alice, { clientId: 'tab-a' });
    if (first.status !== 'held') throw new Error('expected a grant');
    await service.release('page:held', first.token);

    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${table} WHERE resource_id = $1 FOR UPDATE`, [
        'page:held',
      ]);
      const started = Date.now();
      const stuck = service
        .acquire('page:held', { id: 'bob', name: 'Bob' }, { clientId: 'tab-b' })
        .then(
          (value) => ({ value, at: Date.now() }),
          (error: unknown) => ({ error, at: Date.now() }),
        );
      // Meanwhile the pool still serves other resources.
      const other = await service.acquire('page:other', alice, { clientId: 'tab-a' });
      expect(other.status).toBe('held');
      expect((await service.get('page:other')).status).toBe('locked');
      const answer = await stuck;
      expect('error' in answer && answer.error).toBeInstanceOf(LockStoreError);
      const cause = (answer as { error: LockStoreError }).error.cause as Error;
      expect(cause.message).toBe(
        `[page-lock] [postgres] A resource's row in "${table}" stayed locked by another transaction for more than lockTimeoutMs (300 ms)`,
      );
      expect(answer.at - started).toBeGreaterThanOrEqual(250);
      expect(answer.at - started).toBeLessThan(300 + 1_000);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    // Nothing was granted; the row is as the release left it, and the next call works.
    const { rows } = await pool.query(`SELECT fence, lock FROM ${table} WHERE resource_id = $1`, [
      'page:held',
    ]);
    expect(rows).toEqual([{ fence: '1', lock: null }]);
    const next = await service.acquire(
      'page:held',
      { id: 'bob', name: 'Bob' },
      { clientId: 'tab-b' },
    );
    expect(next.status === 'held' && next.lock.fence).toBe(2);
  });

  it('waits 2 s for a held row by default', async () => {
    const store = createPostgresLockStore({ pool, table });
    await store.migrate();
    await acquireAt(store, Date.now());
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${table} WHERE resource_id = $1 FOR UPDATE`, ['page:1']);
      const started = Date.now();
      await expect(acquireAt(store, Date.now(), { token: 'token-1' })).rejects.toThrow(
        'more than lockTimeoutMs (2000 ms)',
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
  });

  it('acquires for a holder whose name holds a NUL or a lone surrogate, and shows it sanitized', async () => {
    const store = createPostgresLockStore({ pool, table });
    await store.migrate();
    const odd: LockUser = { id: 'odd', name: 'Al\u0000ice \ud800x', avatarUrl: '/a\udc00.png' };
    const service = createLockService({ store });
    const handler = createLockHandler({ service, basePath: '/api/locks', getUser: () => odd });
    const response = await handler(
      new Request('http://admin.test/api/locks/page%3A1', {
        method: 'POST',
        headers: { Host: 'admin.test', 'Content-Type': 'application/json' },
        body: JSON.stringify({ clientId: 'tab-odd' }),
      }),
    );
    expect(response.status).toBe(200);
    // The same text the Redis store shows for this holder (test/server/redis-store.test.ts).
    const shown = { id: 'odd', name: 'Alice \ufffdx', avatarUrl: '/a\ufffd.png' };
    expect((await response.json()).lock.holder).toEqual(shown);
    const status = await service.get('page:1');
    expect(status.status === 'locked' && status.lock.holder).toEqual(shown);
  });
});
