export { LockOverlay, type LockOverlayProps } from './lock-overlay';
export { LOCK_OVERLAY_PARTS, useLockOverlay } from './lock-overlay-context';
export {
  defaultLockOverlayMessages,
  type LockOverlayHolderWords,
  type LockOverlayMessages,
} from './lock-overlay-messages';
export { LockOverlayPanel } from './lock-overlay-panel';
export {
  LockOverlayActions,
  LockOverlayContent,
  LockOverlayDescription,
  LockOverlayTitle,
} from './lock-overlay-parts';
export { LockOverlayRoot, type LockOverlayRootProps } from './lock-overlay-root';
export type {
  LockOverlayAction,
  LockOverlayMode,
  LockOverlayState,
  LockOverlayView,
} from './lock-overlay-view';
