/**
 * `page-lock/postgres`: a lock store in Postgres, for several server instances. Needs the
 * optional peer dependency `pg` (imported here only as types).
 */

export {
  createPostgresLockFeed,
  DEFAULT_POSTGRES_FEED_CHANNEL,
  type PostgresListenConnection,
  type PostgresLockFeedOptions,
  type PostgresLockFeedPool,
  type PostgresNotification,
} from './postgres-lock-feed';
export { DEFAULT_POSTGRES_TABLE, lockTableDdl } from './postgres-schema';
export {
  createPostgresLockStore,
  DEFAULT_POSTGRES_LOCK_TIMEOUT_MS,
  type PostgresLockConnection,
  type PostgresLockPool,
  type PostgresLockStore,
  type PostgresLockStoreClock,
  type PostgresLockStoreOptions,
  type PostgresNamedQuery,
  type PostgresQueryResult,
} from './postgres-store';
