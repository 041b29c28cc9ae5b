import path from 'node:path';
import {
  createLockService,
  type LockFeed,
  type LockService,
  type LockStore,
} from 'page-lock/server';
import { askTimeout, dataDir, lockTtl, queueGrace } from './settings';
import { canTakeOver } from './users';

/**
 * The one lock service of this server process. Route handlers and pages may be loaded as
 * separate module instances, so it lives on `globalThis`, created on first use (never at build).
 */
export function getLockService(): Promise<LockService> {
  const shared = globalThis as { pageLockDemoService?: Promise<LockService> };
  shared.pageLockDemoService ??= createDemoLockStore()
    .then(({ store, feed }) => createDemoLockService(store, feed ? { feed } : {}))
    .catch((error: unknown) => {
      shared.pageLockDemoService = undefined;
      throw error;
    });
  return shared.pageLockDemoService;
}

/**
 * Makes `service` the one lock service of this process, for the lock routes and the save route
 * alike: what tests use to run the real route modules over a store and a clock of their own.
 * Call it before the first request.
 */
export function setLockService(service: LockService): void {
  (globalThis as { pageLockDemoService?: Promise<LockService> }).pageLockDemoService =
    Promise.resolve(service);
}

/** What a demo lock service may be built with besides its store (tests inject a clock). */
export interface DemoLockServiceOptions {
  /** Lease length in ms; default `PAGE_LOCK_TTL_MS`, else the library's. */
  ttl?: number;
  /** The clock that decides expiry; default `Date.now`. */
  now?: () => number;
  /** Where changes go to the event streams of every instance; default this process only. */
  feed?: LockFeed;
}

/**
 * The demo's lock service over `store`: its take-over policy and event log, the lease, and the
 * line's timings (`PAGE_LOCK_QUEUE_GRACE_MS`, `PAGE_LOCK_ASK_TIMEOUT_MS`; the library's defaults
 * when unset).
 */
export function createDemoLockService(
  store: LockStore,
  options: DemoLockServiceOptions = {},
): LockService {
  return createLockService({
    store,
    ttl: options.ttl ?? lockTtl(),
    queueGrace: queueGrace(),
    askTimeout: askTimeout(),
    ...(options.now ? { now: options.now } : {}),
    ...(options.feed ? { feed: options.feed } : {}),
    canTakeOver,
    onEvent: (event) => {
      if (process.env.PAGE_LOCK_LOG_EVENTS === '1') {
        console.log(`[page-lock] [demo] ${event.type} ${event.resourceId}`);
      }
    },
  });
}

/**
 * SQLite by default; `PAGE_LOCK_REDIS_URL` or `PAGE_LOCK_POSTGRES_URL` switch to a store several
 * server instances can share. Each is imported only when chosen, so the default needs nothing
 * but better-sqlite3.
 */
async function createDemoLockStore(): Promise<{ store: LockStore; feed?: LockFeed }> {
  const redisUrl = process.env.PAGE_LOCK_REDIS_URL;
  if (redisUrl) {
    const [{ Redis }, { createRedisLockStore, createRedisLockFeed }] = await Promise.all([
      import('ioredis'),
      import('page-lock/redis'),
    ]);
    // Fail fast while Redis is away (a 500), rather than queueing requests (see the Redis README).
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    return {
      store: createRedisLockStore({ client, prefix: 'page-lock-demo:' }),
      // Every instance on this Redis sees every other's changes at once.
      feed: createRedisLockFeed({ client, channel: 'page-lock-demo:changes' }),
    };
  }
  const postgresUrl = process.env.PAGE_LOCK_POSTGRES_URL;
  if (postgresUrl) {
    const [{ default: pg }, { createPostgresLockStore, createPostgresLockFeed }] =
      await Promise.all([import('pg'), import('page-lock/postgres')]);
    const pool = new pg.Pool({ connectionString: postgresUrl });
    // A table of its own: the demo never meets other apps' locks in a shared database.
    const store = createPostgresLockStore({ pool, table: 'page_lock_demo' });
    await store.migrate();
    return { store, feed: createPostgresLockFeed({ pool }) };
  }
  // One process on SQLite: the service's own in-process feed is all the streams need.
  const { createSqliteLockStore } = await import('page-lock/sqlite');
  return { store: createSqliteLockStore({ filename: path.join(dataDir(), 'locks.db') }) };
}
