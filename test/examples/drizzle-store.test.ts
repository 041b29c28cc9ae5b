import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDrizzlePostgresLockStore,
  createDrizzleSqliteLockStore,
  lockTableSql,
  pgLockTable,
  sqliteLockTable,
} from '../../examples/drizzle-store/drizzle-lock-store';
import { runLockStoreContract } from '../contract';

const testApi = { describe, it, expect, beforeEach, afterEach };

/** Opens the SQLite file as an application would: WAL, so several processes can share it. */
function openSqlite(filename: string): Database.Database {
  const database = new Database(filename);
  database.pragma('journal_mode = WAL');
  return database;
}

runLockStoreContract(
  'drizzle over better-sqlite3 (a file)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'page-lock-drizzle-'));
    const filename = join(dir, 'app.db');
    const opened = [openSqlite(filename)];
    const first = opened[0] as Database.Database;
    first.exec(lockTableSql.sqlite('page_lock_record'));
    const storeOn = (database: Database.Database) =>
      createDrizzleSqliteLockStore({ db: drizzleSqlite({ client: database }) });
    return {
      store: storeOn(first),
      // Through a connection of its own: what is on disk, not what the store says.
      countRecords: async () => {
        const reader = new Database(filename, { readonly: true });
        try {
          return (
            reader.prepare('SELECT count(*) AS n FROM page_lock_record').get() as { n: number }
          ).n;
        } finally {
          reader.close();
        }
      },
      reopen: async () => {
        const again = openSqlite(filename);
        opened.push(again);
        return storeOn(again);
      },
      cleanup: async () => {
        for (const database of opened) database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  testApi,
);

const url = process.env.PAGE_LOCK_POSTGRES_URL;

function newPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {}); // a dropped idle connection is the pool's business, not the test's
  return pool;
}

if (!url) {
  it.skip(
    'Drizzle store on Postgres: set PAGE_LOCK_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run these tests',
  );
} else {
  runLockStoreContract(
    'drizzle over node-postgres',
    async () => {
      const name = `page_lock_drizzle_${randomBytes(6).toString('hex')}`;
      const table = pgLockTable(name);
      const admin = newPool();
      const pools = [admin];
      await admin.query(lockTableSql.postgres(name));
      const storeOn = (pool: pg.Pool) =>
        createDrizzlePostgresLockStore({ db: drizzlePostgres({ client: pool }), table });
      return {
        store: storeOn(admin),
        countRecords: async () =>
          Number((await admin.query(`SELECT count(*) AS n FROM "${name}"`)).rows[0].n),
        reopen: async () => {
          const pool = newPool();
          pools.push(pool);
          return storeOn(pool);
        },
        cleanup: async () => {
          await admin.query(`DROP TABLE IF EXISTS "${name}"`);
          await Promise.all(pools.map((pool) => pool.end()));
        },
      };
    },
    testApi,
  );
}

describe('the Drizzle example store', () => {
  it('keeps one row per resource: the version in its column, the record as JSON without it', async () => {
    const database = new Database(':memory:');
    database.exec(lockTableSql.sqlite('locks'));
    const store = createDrizzleSqliteLockStore({
      db: drizzleSqlite({ client: database }),
      table: sqliteLockTable('locks'),
    });
    const holder = { id: 'alice', name: 'Alice' };
    const input = { resourceId: 'page:1', holder, clientId: 'tab-1', ttl: 60_000 };
    await store.acquire({ ...input, newToken: 'token-1', now: 1_000 });
    await store.acquire({ ...input, token: 'token-1', newToken: 'unused', now: 2_000 });
    await store.release({ resourceId: 'page:1', token: 'token-1', now: 3_000 });
    const rows = database.prepare('SELECT * FROM locks').all() as Array<{ record: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ resource_id: 'page:1', version: 3 });
    expect(JSON.parse(rows[0]?.record as string)).toEqual({
      resourceId: 'page:1',
      fence: 1,
      lock: null,
      endings: [{ token: 'token-1', fence: 1, ending: 'released' }],
    });
    database.close();
  });
});
