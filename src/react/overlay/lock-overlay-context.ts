'use client';

import { createContext, type RefObject, useContext } from 'react';
import type { PageLockState } from '../types';
import type { LockOverlayMessages } from './lock-overlay-messages';
import type { LockOverlayMode, LockOverlayView } from './lock-overlay-view';

/** The class names of the overlay's parts, for stylesheets and tests. */
export const LOCK_OVERLAY_PARTS = {
  root: 'page-lock-overlay',
  content: 'page-lock-overlay__content',
  backdrop: 'page-lock-overlay__backdrop',
  panel: 'page-lock-overlay__panel',
  avatar: 'page-lock-overlay__avatar',
  message: 'page-lock-overlay__message',
  description: 'page-lock-overlay__description',
  actions: 'page-lock-overlay__actions',
  button: 'page-lock-overlay__button',
  live: 'page-lock-overlay__live',
  ask: 'page-lock-overlay__ask',
  note: 'page-lock-overlay__note',
  queueStatus: 'page-lock-overlay__queue-status',
  prompt: 'page-lock-overlay__prompt',
  quote: 'page-lock-overlay__quote',
  idleWarning: 'page-lock-overlay__idle-warning',
} as const;

// The parts' names, for the sentence a part says when it is used outside a root.
export const ROOT_NAME = 'LockOverlayRoot';
export const CONTENT_NAME = 'LockOverlayContent';
export const PANEL_NAME = 'LockOverlayPanel';
export const TITLE_NAME = 'LockOverlayTitle';
export const DESCRIPTION_NAME = 'LockOverlayDescription';
export const ACTIONS_NAME = 'LockOverlayActions';
export const ASK_NAME = 'LockOverlayAsk';
export const HOLDER_PROMPT_NAME = 'LockOverlayHolderPrompt';
export const IDLE_WARNING_NAME = 'LockOverlayIdleWarning';

/** What a root tells its parts. */
export interface LockOverlayContextValue {
  /** What to show; null while there is nothing to show (`data-state="hidden"`). */
  view: LockOverlayView | null;
  /** The lock state shown, also while the view is null (the holder's prompts read it). */
  lock: PageLockState;
  messages: LockOverlayMessages;
  mode: LockOverlayMode | 'hidden';
  /** `children`: the root wraps a {@link CONTENT_NAME}; `page`: it covers the whole page. */
  scope: 'children' | 'page';
  titleId: string;
  descriptionId: string;
  /** A takeover is on its way: Take over and Edit here instead wait. */
  busy: boolean;
  contentRef: RefObject<HTMLDivElement | null>;
}

export const LockOverlayContext = createContext<LockOverlayContextValue | null>(null);

/** The root's context, or one sentence that says what to add. */
export function useLockOverlayContext(part: string): LockOverlayContextValue {
  const context = useContext(LockOverlayContext);
  if (!context) {
    throw new Error(`[page-lock] ${part} must be inside <${ROOT_NAME}> (or <LockOverlay>).`);
  }
  return context;
}

/**
 * What the enclosing overlay shows (its words, holder, actions and state), or null while it shows
 * nothing: for parts of your own inside `<LockOverlayRoot>`.
 */
export function useLockOverlay(): LockOverlayView | null {
  return useLockOverlayContext('useLockOverlay').view;
}

/** `data-state` of every part. */
export const dataStateOf = (context: LockOverlayContextValue): string =>
  context.view?.state ?? 'hidden';

/** The part's own class name first, then the caller's. */
export const classNames = (part: string, extra: string | undefined): string =>
  extra ? `${part} ${extra}` : part;
