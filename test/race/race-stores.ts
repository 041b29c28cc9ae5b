import type { LockStore } from '../../server-adapter/store/lock-store';

/**
 * Opens the store a race worker hammers, from the connection string given on its command line.
 * Each kind imports its client lazily, so a worker loads only the client it uses.
 */
export type RaceStoreFactory = (connection: string) => Promise<LockStore>;

/**
 * The stores the race harness knows, by kind name (`--kind`). To race another store, add one
 * entry here; the worker, the runner and the auditor need no change.
 */
export const raceStores: Record<string, RaceStoreFactory> = {
  /** `connection` is the SQLite file's path; every worker opens it itself. */
  sqlite: async (filename) => {
    const { createSqliteLockStore } = await import('../../server-adapter/sqlite');
    return createSqliteLockStore({ filename });
  },
  /**
   * `connection` is JSON `{ "url": "redis://…", "prefix": "…" }`; every worker makes its own
   * ioredis client, which `close()` quits (the store itself never closes a client it was given).
   */
  redis: async (connection) => {
    const { url, prefix } = JSON.parse(connection) as { url: string; prefix: string };
    const { default: Redis } = await import('ioredis');
    const { createRedisLockStore } = await import('../../server-adapter/redis');
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    return {
      ...createRedisLockStore({ client, prefix }),
      close: async () => void (await client.quit()),
    };
  },
  /**
   * `connection` is JSON `{ "url": "postgres://…", "table": "…" }` (the table already migrated);
   * every worker makes its own pool, which `close()` ends.
   */
  postgres: async (connection) => {
    const { url, table } = JSON.parse(connection) as { url: string; table: string };
    const { default: pg } = await import('pg');
    const { createPostgresLockStore } = await import('../../server-adapter/postgres');
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    return { ...createPostgresLockStore({ pool, table }), close: () => pool.end() };
  },
};
