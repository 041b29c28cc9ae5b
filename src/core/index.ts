/**
 * `page-lock/core`: the wire protocol's types and constants, the {@link LockAdapter} contract,
 * its HTTP implementation and the failure helpers: what a client without React, or a custom
 * adapter, needs. No React, no directive: importable anywhere. (The in-memory server and adapter
 * are `page-lock/memory`.) test/package/public-surface.test.ts lists every name.
 */

export {
  type AcquireResponse,
  type AnswerResponse,
  type AskResponse,
  type AskState,
  type BatchStatusEntry,
  type BatchStatusResponse,
  type ErrorCode,
  type ErrorResponse,
  type HeldResponse,
  LOCK_TOKEN_HEADER,
  type Lock,
  type LockAction,
  type LockedResponse,
  type LockUser,
  type LostReason,
  type LostResponse,
  MAX_ASK_MESSAGE_LENGTH,
  MAX_BATCH_IDS,
  MAX_RESOURCE_ID_LENGTH,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
  type QueuedResponse,
  type StatusResponse,
  type Waiter,
} from '../protocol/protocol';
export {
  type AcquireRequest,
  type AdapterCallOptions,
  type AnswerRequest,
  type AskRequest,
  type LockAdapter,
  LockAdapterError,
  type LockAdapterErrorKind,
  type ReleaseOptions,
  type ReleaseOutcome,
  type TakeOverRefused,
  type TakeOverRequest,
  type TakeOverResponse,
} from './adapter';
export {
  createHttpLockAdapter,
  type HttpLockAdapterOptions,
  type LockBeacon,
  type LockFetch,
  type LockRequestHeaders,
} from './http-adapter';
export { type LockFailureKind, lockFailureOf } from './lock-failure';
