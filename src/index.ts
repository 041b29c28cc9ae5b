'use client';

// `page-lock`: the React half (provider, hooks, overlay) plus everything of `page-lock/core`.
// A client module: import it from client components; types and `page-lock/core` stay server-safe.
export {
  type AcquireMode,
  DEFAULT_POLL_INTERVAL,
  type PageLockCallbacks,
  type PageLockOptions,
} from './client/lock-options';
export {
  type LockQueryScope,
  lockQueryOptions,
  lockStatusQueryOptions,
} from './client/lock-queries';
export type { PageLockSnapshot } from './client/lock-snapshot';
export {
  CLIENT_ID_STORAGE_KEY,
  createTabClientId,
  getTabClientId,
  type TabClientId,
  type TabClientIdOptions,
} from './core/client-id';
export * from './core/index';
export { getNavigation, type Navigation, setNavigation } from './core/navigation';
export {
  PageLifecycle,
  type PageLifecycleEvent,
  type PageLifecycleListener,
  type PageLifecycleSetup,
  pageLifecycle,
} from './core/page-lifecycle';
export type { LockStatusView } from './react/lock-status-hub';
export * from './react/overlay/index';
export { type PageLockSettings, usePageLockSettings } from './react/page-lock-context';
export { PageLockProvider, type PageLockProviderProps } from './react/page-lock-provider';
export type { PageLockLostReason, PageLockState, PageLockStatus } from './react/types';
export { useLockStatus } from './react/use-lock-status';
export { usePageLock } from './react/use-page-lock';
