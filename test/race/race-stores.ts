import type { LockStore } from '../../server-adapter/store/lock-store';

/** A store a race worker hammers, and which clock decides its leases. */
export interface RaceStore {
  store: LockStore;
  /**
   * `'store'`: the store reads its own clock inside each atomic step (Redis, Postgres), so the
   * times it reports are on one clock whatever the workers' clocks say, and the workers log those.
   * `'service'`: it decides by the `now` each worker's service passes (SQLite: one machine's
   * clock, so the workers' clocks must not be skewed).
   */
  clock: 'store' | 'service';
}

/**
 * Opens the store a race worker hammers, from the connection string given on its command line.
 * Each kind imports its client lazily, so a worker loads only the client it uses.
 */
export type RaceStoreFactory = (connection: string) => Promise<RaceStore>;

/**
 * The stores the race harness knows, by kind name (`--kind`). To race another store, add one
 * entry here; the worker, the runner and the auditor need no change.
 */
export const raceStores: Record<string, RaceStoreFactory> = {
  /** `connection` is the SQLite file's path; every worker opens it itself. */
  sqlite: async (filename) => {
    const { createSqliteLockStore } = await import('../../server-adapter/sqlite');
    return { store: createSqliteLockStore({ filename }), clock: 'service' };
  },
  /**
   * `connection` is JSON `{ "url": "redis://…", "prefix": "…" }`; every worker makes its own
   * ioredis client, which `close()` quits (the store itself never closes a client it was given).
   * The store runs by its default clock, Redis' own.
   */
  redis: async (connection) => {
    const { url, prefix } = JSON.parse(connection) as { url: string; prefix: string };
    const { default: Redis } = await import('ioredis');
    const { createRedisLockStore } = await import('../../server-adapter/redis');
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    return {
      store: {
        ...createRedisLockStore({ client, prefix, warnIfVolatile: false }),
        close: async () => void (await client.quit()),
      },
      clock: 'store',
    };
  },
  /**
   * `connection` is JSON `{ "url": "postgres://…", "table": "…" }` (the table already migrated);
   * every worker makes its own pool, which `close()` ends. The store runs by its default clock,
   * Postgres' own.
   */
  postgres: async (connection) => {
    const { url, table } = JSON.parse(connection) as { url: string; table: string };
    const { default: pg } = await import('pg');
    const { createPostgresLockStore } = await import('../../server-adapter/postgres');
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    return {
      store: { ...createPostgresLockStore({ pool, table }), close: () => pool.end() },
      clock: 'store',
    };
  },
  /**
   * The Drizzle example store (examples/drizzle-store) over better-sqlite3: `connection` is the
   * file's path (its table already created); every worker opens it in WAL mode. A record store
   * decides by the service's clock.
   */
  'drizzle-sqlite': async (filename) => {
    const { default: Database } = await import('better-sqlite3');
    const { drizzle } = await import('drizzle-orm/better-sqlite3');
    const { createDrizzleSqliteLockStore } = await import(
      '../../examples/drizzle-store/drizzle-lock-store'
    );
    const database = new Database(filename);
    database.pragma('journal_mode = WAL');
    const store = createDrizzleSqliteLockStore({ db: drizzle({ client: database }) });
    return { store: { ...store, close: async () => void database.close() }, clock: 'service' };
  },
  /**
   * The Drizzle example store over node-postgres: `connection` is JSON `{ "url": "postgres://…",
   * "table": "…" }` (the table already created); every worker makes its own pool.
   */
  'drizzle-postgres': async (connection) => {
    const { url, table } = JSON.parse(connection) as { url: string; table: string };
    const { default: pg } = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const { createDrizzlePostgresLockStore, pgLockTable } = await import(
      '../../examples/drizzle-store/drizzle-lock-store'
    );
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const db = drizzle({ client: pool });
    const store = createDrizzlePostgresLockStore({ db, table: pgLockTable(table) });
    return { store: { ...store, close: () => pool.end() }, clock: 'service' };
  },
};
