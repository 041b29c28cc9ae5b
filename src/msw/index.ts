/**
 * `page-lock/msw`: MSW request handlers that speak page-lock's wire protocol from an in-memory
 * lock server, for tests and Storybook. Needs `msw` 2 (an optional peer dependency).
 */
export type {
  MemoryLockServer,
  MemoryLockServerOptions,
  MemoryLockServerUser,
} from '../core/memory-server';
export { createMemoryLockServer, getDefaultMemoryLockServer } from '../core/memory-server';
export { createLockHandlers, type LockHandlersOptions } from './lock-handlers';
