'use client';

// `page-lock`: what an editor needs: the provider, the hooks, the overlay and its parts, the HTTP
// adapter, the types they take and return, and the error helpers. A client module: import it from
// client components. Protocol types, `LockAdapter`'s request types and the constants of the wire
// protocol live in `page-lock/core` (server-safe, no React); test/package/public-surface.test.ts
// lists every name, so adding one is a deliberate change.
export type { PageLockOptions } from './client/lock-options';
export { lockQueryOptions, lockStatusQueryOptions } from './client/lock-queries';
export {
  createHttpLockAdapter,
  type HttpLockAdapterOptions,
  LOCK_TOKEN_HEADER,
  type Lock,
  type LockAdapter,
  LockAdapterError,
  type LockFailureKind,
  type LockUser,
  lockFailureOf,
  type Waiter,
} from './core/index';
export type { LockStatusView } from './react/lock-status-hub';
export * from './react/overlay/index';
export { PageLockProvider, type PageLockProviderProps } from './react/page-lock-provider';
export type { PageLockLostReason, PageLockState, PageLockStatus } from './react/types';
export { useLockStatus } from './react/use-lock-status';
export { usePageLock } from './react/use-page-lock';
