import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresLockStore } from '../../server-adapter/postgres';
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
      const store = createPostgresLockStore({ pool: admin, table });
      await store.migrate();
      return {
        store,
        countRecords: async () =>
          Number((await admin.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n),
        reopen: async () => {
          const pool = newPool();
          pools.push(pool);
          return createPostgresLockStore({ pool, table });
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
    const store = createPostgresLockStore({ pool, table });
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
});
