export type { Lock, LockAction, LockUser, LostReason } from '../src/protocol/protocol';
export { LOCK_TOKEN_HEADER, PROTOCOL_VERSION } from '../src/protocol/protocol';
export {
  type LockErrorResponseOptions,
  lockErrorResponse,
} from './handler/lock-error-response';
export {
  createLockHandler,
  type LockHandler,
  type LockHandlerOptions,
} from './handler/lock-handler';
export { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from './handler/read-body';
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
  type AcquireOptions,
  type AcquireResult,
  createLockService,
  DEFAULT_TTL,
  type HeldResult,
  type LockedResult,
  type LockService,
  type LockServiceOptions,
  type LostResult,
  type ReleaseResult,
  type StatusResult,
  type TakeOverOptions,
  type TakeOverResult,
  type Viewer,
} from './service/lock-service';
export {
  applyAcquire,
  applyCheck,
  applyForceRelease,
  applyRelease,
  applyTakeOver,
  MAX_REMEMBERED_ENDINGS,
  type RememberedEnding,
  type ResourceRecord,
  type RuleOutcome,
} from './store/lock-rules';
export type {
  DecidedAt,
  LockEnding,
  LockStore,
  StoreAcquireInput,
  StoreAcquireResult,
  StoreCheckInput,
  StoreCheckResult,
  StoreClock,
  StoredLock,
  StoreReleaseInput,
  StoreReleaseResult,
  StoreTakeOverInput,
  StoreTakeOverResult,
} from './store/lock-store';
export { createMemoryLockStore, type MemoryLockStore } from './store/memory-store';
export {
  createRecordLockStore,
  type LockRecord,
  type RecordLockStoreOptions,
} from './store/record-store';
