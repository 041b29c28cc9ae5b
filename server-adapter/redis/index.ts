export { DEFAULT_REDIS_PREFIX } from './redis-keys';
export type { RedisLockClient } from './redis-lock-client';
export {
  createRedisLockFeed,
  DEFAULT_REDIS_FEED_CHANNEL,
  type RedisLockFeedClient,
  type RedisLockFeedOptions,
  type RedisLockFeedSubscriber,
} from './redis-lock-feed';
export {
  createRedisLockStore,
  DEFAULT_REDIS_GC_MARGIN,
  type RedisLockStoreClock,
  type RedisLockStoreOptions,
} from './redis-lock-store';
