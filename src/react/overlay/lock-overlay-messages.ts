import type { AskState } from '../../protocol/protocol';
import type { PageLockLostReason } from '../types';

/**
 * What a message about the holder is given: who, and since when, already formatted for the
 * overlay's locale. `time`/`relative` are empty when `since` is unknown.
 */
export interface LockOverlayHolderWords {
  /** The holder's name, or `messages.someone` when nobody is known. */
  name: string;
  /** The clock time, e.g. `10:42` (with the date when it was not today). */
  time: string;
  /** The distance from now, e.g. `5 minutes ago`. */
  relative: string;
}

/**
 * Every word `<LockOverlay />` shows or announces. Pass a partial set as `messages` to replace
 * some of them; {@link defaultLockOverlayMessages} holds the English defaults.
 */
export interface LockOverlayMessages {
  /** Title while another user holds the page: "Alice has been editing this page since 10:42 (5 minutes ago)". */
  lockedBy: (words: LockOverlayHolderWords) => string;
  /**
   * What the blocked user can do while another user holds the page; `canAsk`: "Ask to edit" is
   * offered too.
   */
  lockedDescription: (
    words: LockOverlayHolderWords & { canTakeOver: boolean; canAsk: boolean; inLine: boolean },
  ) => string;
  /** Title while this user holds the page in another tab or device. */
  lockedBySelf: (words: LockOverlayHolderWords) => string;
  /** What the user can do about their other tab. */
  lockedBySelfDescription: string;
  /** Title after the lock was lost, per reason; `name` is whoever holds it now, when known. */
  lost: (reason: PageLockLostReason, words: LockOverlayHolderWords) => string;
  /** Says the editor's content stays on screen, read-only, so it can be copied. */
  lostDescription: (reason: PageLockLostReason) => string;
  /** Title after this user moved the lock to another tab of theirs ("Edit here instead" there). */
  openedInOtherTab: string;
  /** Says this tab's text stays on screen, read-only, and editing goes on in the other tab. */
  openedInOtherTabDescription: string;
  /**
   * Quiet status while the first answer is on its way (a lock acquired on mount): the editor
   * waits, inert, so nothing typed freezes under a late overlay.
   */
  checking: string;
  /** Title when the lock server could not be reached: offline, no answer (failure `offline`). */
  error: string;
  /** What the user can do while the server is unreachable, failed or answered oddly. */
  errorDescription: string;
  /** Title when the server says nobody is signed in (401, failure `unauthorized`). */
  notSignedIn: string;
  /** What the user can do about it. */
  notSignedInDescription: string;
  /** Title when the server does not allow this user to edit the page (403, failure `forbidden`). */
  notAllowed: string;
  /** What the user can do about it. */
  notAllowedDescription: string;
  /** Title when there is no lock route at the adapter's URL (404/405, failure `not-found`). */
  noLockRoute: string;
  /** What the user can do about it (it is the app's setup, not theirs). */
  noLockRouteDescription: string;
  /** Title when the lock server failed or was too busy to answer (5xx, failure `server`). */
  serverError: string;
  /** Title when the server's answer is not the page-lock protocol (failure `unexpected`). */
  unexpectedAnswer: string;
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

  // Ask to edit, as the blocked tab sees it.
  /** Button: ask the holder to hand the page over, and wait in line. */
  askToEdit: string;
  /** Button: ask again after the holder declined, or did not answer. */
  askAgain: string;
  /** The label of the optional note to the holder (`name`: the holder). */
  askNoteLabel: (words: { name: string }) => string;
  /** This tab's place in line (1: next): "You are next", "2nd in line". */
  placeInLine: (words: { place: number }) => string;
  /**
   * What became of this tab's request (`name`: the holder): `sending` "Asking Alice…", `pending`
   * "Waiting for Alice to answer", `declined` "Alice is still editing", `lapsed` "Alice did not
   * answer".
   */
  askState: (state: 'sending' | AskState, words: { name: string }) => string;
  /** Why asking failed; `queueFull`: too many tabs wait already. */
  askFailed: (words: { queueFull: boolean }) => string;
  /** Button: leave the line (the request ends too). */
  leaveQueue: string;
  /** Told to a blocked tab that is not in line: how many others wait. */
  othersWaiting: (words: { count: number }) => string;

  // The holder's side.
  /** Labels the holder's prompt: "Bob asks to edit this page". */
  askedBy: (words: { name: string }) => string;
  /** The asker's note, as the prompt quotes it. */
  askedNote: (words: { name: string; message: string }) => string;
  /** Everyone in line, first first: "Bob and Carol are waiting". */
  waitingInLine: (words: { names: readonly string[] }) => string;
  /** Button: give the page to the one who asked (to the first in line when nobody asks). */
  handOver: string;
  /** Button: decline the request, or answer the idle warning. */
  keepEditing: string;
  /** Told to the holder when "Hand over" did not go through (`onHandOver` threw, or offline). */
  handOverFailed: string;
  /** Labels the idle warning. */
  idleTitle: string;
  /** The idle warning's countdown, every second: "This page will be released in 60 seconds." */
  idleCountdown: (words: { seconds: number }) => string;
}

function sinceSuffix({ time, relative }: LockOverlayHolderWords): string {
  if (!time) return '';
  return relative ? ` since ${time} (${relative})` : ` since ${time}`;
}

/** The English words `<LockOverlay />` uses when `messages` does not replace them. */
export const defaultLockOverlayMessages: LockOverlayMessages = {
  lockedBy: (words) => `${words.name} has been editing this page${sinceSuffix(words)}`,
  lockedDescription: ({ name, canTakeOver, canAsk, inLine }) => {
    // In line, the page is handed to this tab when its turn comes: nothing reloads.
    if (inLine) {
      return canTakeOver
        ? `You get the page when ${name} hands it over or leaves. You can also go back, or take the page over.`
        : `You get the page when ${name} hands it over or leaves. You can also go back.`;
    }
    if (canAsk) {
      return canTakeOver
        ? 'You can ask them to hand it over, wait until they are done, go back, or take the page over. Taking over discards their unsaved changes.'
        : 'You can ask them to hand it over, wait until they are done or go back.';
    }
    return canTakeOver
      ? 'You can wait until they are done, go back, or take the page over. Taking over discards their unsaved changes.'
      : 'You can wait until they are done or go back. The page reloads once it is free.';
  },
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
      case 'handed-over':
        return `You handed this page to ${name}.`;
      case 'idle':
        return 'This page was released because you were away.';
    }
  },
  lostDescription: (reason) =>
    reason === 'unreachable'
      ? 'Your changes are still on screen, read-only. Retry to continue editing, or copy what you need and reload.'
      : 'Your changes are still on screen, read-only: copy what you need, then reload to see the latest version.',
  openedInOtherTab: 'You opened this page in another tab.',
  openedInOtherTabDescription:
    'You are editing it there now. What you typed here is still on screen, read-only, so you can copy it.',
  checking: 'Checking who is editing…',
  error: 'The lock server could not be reached.',
  errorDescription: 'Editing is paused until we know nobody else is editing this page.',
  notSignedIn: 'You are not signed in, so this page cannot be reserved for you.',
  notSignedInDescription: 'Sign in again (in another tab, so nothing here is lost), then retry.',
  notAllowed: 'You are not allowed to edit this page.',
  notAllowedDescription: 'Go back, or ask an administrator for access.',
  noLockRoute: 'Editing is unavailable: this page cannot check who else is editing it.',
  noLockRouteDescription:
    'The page’s editing lock is not set up correctly. Please tell the site’s administrator.',
  serverError: 'The lock server had a problem.',
  unexpectedAnswer: 'The lock server sent an answer this page does not understand.',
  editingNow: 'You can edit this page now.',
  someone: 'Someone',
  avatarAlt: ({ name }) => name,
  goBack: 'Go back',
  takeOver: 'Take over',
  editHereInstead: 'Edit here instead',
  reload: 'Reload',
  retry: 'Retry',
  askToEdit: 'Ask to edit',
  askAgain: 'Ask again',
  askNoteLabel: ({ name }) => `Note for ${name} (optional)`,
  placeInLine: ({ place }) => (place === 1 ? 'You are next' : `${englishOrdinal(place)} in line`),
  askState: (state, { name }) => {
    switch (state) {
      case 'sending':
        return `Asking ${name}…`;
      case 'pending':
        return `Waiting for ${name} to answer`;
      case 'declined':
        return `${name} is still editing`;
      case 'lapsed':
        return `${name} did not answer`;
    }
  },
  askFailed: ({ queueFull }) =>
    queueFull
      ? 'Too many people are waiting for this page. Try again later.'
      : 'Your request did not reach the server. Try again.',
  leaveQueue: 'Leave the line',
  othersWaiting: ({ count }) =>
    count === 1
      ? '1 person is waiting to edit this page.'
      : `${count} people are waiting to edit this page.`,
  askedBy: ({ name }) => `${name} asks to edit this page`,
  askedNote: ({ message }) => `“${message}”`,
  waitingInLine: ({ names }) =>
    `${englishList(names)} ${names.length === 1 ? 'is' : 'are'} waiting`,
  handOver: 'Hand over',
  keepEditing: 'Keep editing',
  handOverFailed: 'The page could not be handed over. Try again.',
  idleTitle: 'Are you still editing?',
  idleCountdown: ({ seconds }) =>
    `This page will be released in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`,
};

const ENGLISH_ORDINAL_SUFFIXES: Partial<Record<number, string>> = { 1: 'st', 2: 'nd', 3: 'rd' };

/** 1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st. */
function englishOrdinal(n: number): string {
  const lastTwo = n % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return `${n}th`;
  return `${n}${ENGLISH_ORDINAL_SUFFIXES[n % 10] ?? 'th'}`;
}

/** "Bob", "Bob and Carol", "Bob, Carol and Dan". */
function englishList(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
