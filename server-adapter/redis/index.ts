export { DEFAULT_REDIS_PREFIX } from './redis-keys';
export type { RedisLockClient } from './redis-lock-client';
export {
  createRedisLockStore,
  DEFAULT_REDIS_GC_MARGIN,
  type RedisLockStoreClock,
  type RedisLockStoreOptions,
} from './redis-lock-store';
