export {
  LOCK_OVERLAY_PARTS,
  LockOverlay,
  type LockOverlayMode,
  type LockOverlayProps,
} from './lock-overlay';
export {
  defaultLockOverlayMessages,
  type LockOverlayHolderWords,
  type LockOverlayMessages,
  type LockOverlaySince,
} from './lock-overlay-messages';
export type {
  LockOverlayAction,
  LockOverlayActionId,
  LockOverlayState,
  LockOverlayView,
} from './lock-overlay-view';
