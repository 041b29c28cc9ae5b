// `page-lock/server`: the service, the Web handler, the memory and record stores, the errors and
// the types they take and return. A custom store gets the rest from `LockStore` (its inputs and
// results are its methods' parameter and return types) and `lockRules` (docs/custom-store.md).
// test/package/public-surface.test.ts lists every name, so adding one is a deliberate change.
export type { Lock, LockAction, LockUser } from '../src/protocol/protocol';
export { LOCK_TOKEN_HEADER } from '../src/protocol/protocol';
export { lockErrorResponse } from './handler/lock-error-response';
export {
  createLockHandler,
  type LockHandler,
  type LockHandlerOptions,
} from './handler/lock-handler';
export type { LockChange, LockFeed } from './live/lock-feed';
export {
  LockBusyError,
  LockForbiddenError,
  LockInputError,
  LockNotHeldError,
  LockStoreError,
  PageLockError,
} from './service/errors';
export type { LockEvent } from './service/events';
export {
  type AcquireResult,
  type AnswerResult,
  type AskResult,
  createLockService,
  type LockService,
  type LockServiceOptions,
  type ReleaseResult,
  type StatusResult,
  type TakeOverResult,
} from './service/lock-service';
/** The lock rules as pure functions, for a custom store with an atomic read-modify-write. */
export * as lockRules from './store/lock-rules';
export type { LockStore, StoredLock, StoredWaiter } from './store/lock-store';
export { createMemoryLockStore } from './store/memory-store';
export {
  createRecordLockStore,
  type LockRecord,
  type RecordLockStoreOptions,
} from './store/record-store';
