/**
 * `page-lock/msw`: MSW request handlers that speak page-lock's wire protocol from an in-memory
 * lock server (`page-lock/memory`), for tests and Storybook. Needs `msw` 2 (an optional peer dependency).
 */
export { createLockHandlers, type LockHandlersOptions } from './lock-handlers';
