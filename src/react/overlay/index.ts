// The overlay's public part of `page-lock`: the ready-made `<LockOverlay>`, its named parts,
// `useLockOverlay` for parts of one's own, and the words. Class names, the view's action and mode
// types and the holder-words type stay internal (reachable through `LockOverlayView` and
// `LockOverlayMessages`).
export { LockOverlay, type LockOverlayProps } from './lock-overlay';
export { LockOverlayAsk } from './lock-overlay-ask';
export { useLockOverlay } from './lock-overlay-context';
export { LockOverlayHolderPrompt } from './lock-overlay-holder-prompt';
export { LockOverlayIdleWarning } from './lock-overlay-idle-warning';
export { defaultLockOverlayMessages, type LockOverlayMessages } from './lock-overlay-messages';
export { LockOverlayPanel } from './lock-overlay-panel';
export {
  LockOverlayActions,
  LockOverlayContent,
  LockOverlayDescription,
  LockOverlayTitle,
} from './lock-overlay-parts';
export { LockOverlayRoot, type LockOverlayRootProps } from './lock-overlay-root';
export type { LockOverlayState, LockOverlayView } from './lock-overlay-view';
