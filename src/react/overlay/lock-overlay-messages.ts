import type { PageLockLostReason } from '../types';

/** When the holder started: both forms, already formatted for the overlay's locale. */
export interface LockOverlaySince {
  /** The clock time, e.g. `10:42` (with the date when it was not today). */
  time: string;
  /** The distance from now, e.g. `5 minutes ago`. */
  relative: string;
}

/** What a message about the holder is given. `time`/`relative` are empty when `since` is unknown. */
export interface LockOverlayHolderWords extends LockOverlaySince {
  /** The holder's name, or `messages.someone` when nobody is known. */
  name: string;
}

/**
 * Every word `<LockOverlay />` shows or announces. Pass a partial set as `messages` to replace
 * some of them; {@link defaultLockOverlayMessages} holds the English defaults.
 */
export interface LockOverlayMessages {
  /** Title while another user holds the page: "Alice has been editing this page since 10:42 (5 minutes ago)". */
  lockedBy: (words: LockOverlayHolderWords) => string;
  /** What the blocked user can do while another user holds the page. */
  lockedDescription: (words: LockOverlayHolderWords & { canTakeOver: boolean }) => string;
  /** Title while this user holds the page in another tab or device. */
  lockedBySelf: (words: LockOverlayHolderWords) => string;
  /** What the user can do about their other tab. */
  lockedBySelfDescription: string;
  /** Title after the lock was lost, per reason; `name` is whoever holds it now, when known. */
  lost: (reason: PageLockLostReason, words: LockOverlayHolderWords) => string;
  /** Says the editor's content stays on screen, read-only, so it can be copied. */
  lostDescription: (reason: PageLockLostReason) => string;
  /** Title when the lock server could not be reached (while not holding the lock). */
  error: string;
  /** What the user can do about it. */
  errorDescription: string;
  /** Announced when the overlay goes away because this tab holds the lock again. */
  editingNow: string;
  /** Stands in for the holder's name when nobody is known. */
  someone: string;
  /** The holder's avatar's alt text. */
  avatarAlt: (words: { name: string }) => string;
  /** Button: leave the page (`backHref`, `onGoBack`, or back one history entry). */
  goBack: string;
  /** Button: take the lock from another user (shown only when the server allows it). */
  takeOver: string;
  /** Button: move this user's lock from their other tab to this one. */
  editHereInstead: string;
  /** Button: reload the page after a lost lock. */
  reload: string;
  /** Button: try the server again (`error`, or `lost` with `unreachable`). */
  retry: string;
}

function sinceSuffix({ time, relative }: LockOverlaySince): string {
  if (!time) return '';
  return relative ? ` since ${time} (${relative})` : ` since ${time}`;
}

/** The English words `<LockOverlay />` uses when `messages` does not replace them. */
export const defaultLockOverlayMessages: LockOverlayMessages = {
  lockedBy: (words) => `${words.name} has been editing this page${sinceSuffix(words)}`,
  lockedDescription: ({ canTakeOver }) =>
    canTakeOver
      ? 'You can wait until they are done, go back, or take the page over. Taking over discards their unsaved changes.'
      : 'You can wait until they are done or go back. The page reloads once it is free.',
  lockedBySelf: (words) => `You are editing this page in another tab${sinceSuffix(words)}`,
  lockedBySelfDescription:
    'Edit here instead to move the lock to this tab; the other tab becomes read-only.',
  lost: (reason, { name }) => {
    switch (reason) {
      case 'taken-over':
        return `${name} took over this page, so you can no longer edit it.`;
      case 'expired':
        return `Your editing session expired and ${name} is editing this page now.`;
      case 'edited-meanwhile':
        return 'Your editing session expired and someone else edited this page meanwhile.';
      case 'unreachable':
        return 'The connection to the server was lost, so this page is no longer reserved for you.';
      case 'released':
        return 'This page was released and is no longer reserved for you.';
    }
  },
  lostDescription: (reason) =>
    reason === 'unreachable'
      ? 'Your changes are still on screen, read-only. Retry to continue editing, or copy what you need and reload.'
      : 'Your changes are still on screen, read-only: copy what you need, then reload to see the latest version.',
  error: 'The lock server could not be reached.',
  errorDescription: 'Editing is paused until we know nobody else is editing this page.',
  editingNow: 'You can edit this page now.',
  someone: 'Someone',
  avatarAlt: ({ name }) => name,
  goBack: 'Go back',
  takeOver: 'Take over',
  editHereInstead: 'Edit here instead',
  reload: 'Reload',
  retry: 'Retry',
};
