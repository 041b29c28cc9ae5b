import { type LockFailureKind, lockFailureOf } from '../../core/lock-failure';
import type { LockUser } from '../../protocol/protocol';
import type { PageLockState } from '../types';
import type { LockOverlayHolderWords, LockOverlayMessages } from './lock-overlay-messages';
import { formatSince, type TimeFormatOptions } from './relative-time';

/**
 * What the overlay shows, as its `data-state`: the first answer is on its way (`checking`),
 * another user holds the page (`locked`), this user holds it in another tab (`self`), this tab
 * lost it (`lost`), the server could not be asked (`error`; `failure` says why).
 */
export type LockOverlayState = 'checking' | 'locked' | 'self' | 'lost' | 'error';

/**
 * How the overlay blocks, as its `data-mode`: `modal` covers the editor and makes it inert (over
 * the whole page, a modal `<dialog>`); `read-only` (a lost lock) leaves the editor visible and
 * selectable, so the user can copy their text, with its fields marked read-only; `notice`
 * (`blockEditing={false}`) blocks nothing; `checking` makes the editor inert under a quiet
 * status, with no dialog and no focus moved.
 */
export type LockOverlayMode = 'modal' | 'read-only' | 'notice' | 'checking';

/** One button of the overlay, ready for a custom `renderActions` to draw. */
export interface LockOverlayAction {
  /** Each default button carries it as `data-action`. */
  id: 'go-back' | 'take-over' | 'edit-here' | 'reload' | 'retry';
  label: string;
  /** Set for Go back when `backHref` is given: draw a link. */
  href?: string;
  /** The main action of its state, for styling. */
  primary: boolean;
  /** Does what the button says (for a link: the `onGoBack` hook only, the link navigates). */
  run: () => void;
}

/** Everything the overlay knows about what to show; given to every render prop. */
export interface LockOverlayView {
  state: LockOverlayState;
  /** The lock state the overlay shows. */
  lock: PageLockState;
  mode: LockOverlayMode;
  /**
   * Why the server could not be asked, for `error` (and `lost` with `unreachable`): `offline`,
   * `unauthorized`, `forbidden`, `not-found`, `server` or `unexpected`; null otherwise.
   */
  failure: LockFailureKind | null;
  holder: LockUser | null;
  /** The holder's name and since when, formatted, as the messages receive them. */
  words: LockOverlayHolderWords;
  /** The message that labels the panel. */
  title: string;
  /** The sentence that describes it. */
  description: string;
  /**
   * What the live region announces: the title without the relative time, so it does not change
   * (and get announced again) every time "5 minutes ago" ticks on.
   */
  announcement: string;
  actions: LockOverlayAction[];
  messages: LockOverlayMessages;
}

/** Which overlay a lock state calls for; `null` when there is nothing to show. */
export function overlayStateOf(lock: PageLockState): LockOverlayState | null {
  if (lock.isChecking) return 'checking';
  const { status } = lock;
  if (status === 'locked') return lock.isSelf ? 'self' : 'locked';
  return status === 'lost' || status === 'error' ? status : null;
}

/** How a state blocks; `hidden` when there is nothing to show. */
export function overlayModeOf(
  state: LockOverlayState | null,
  blockEditing: boolean,
): LockOverlayMode | 'hidden' {
  if (state === null) return 'hidden';
  // Nothing is blocked without blockEditing, so nothing typed can freeze: no need to wait.
  if (state === 'checking') return blockEditing ? 'checking' : 'hidden';
  if (!blockEditing) return 'notice';
  return state === 'lost' ? 'read-only' : 'modal';
}

/** The handlers behind the actions, decided by the component. */
export interface LockOverlayHandlers {
  goBack: () => void;
  backHref: string | undefined;
  takeOver: () => void;
  reload: () => void;
  retry: () => void;
}

type Words = {
  [Key in keyof LockOverlayMessages]: LockOverlayMessages[Key] extends string ? Key : never;
}[keyof LockOverlayMessages];

// Title and description per failure kind.
const FAILURE_WORDS: Record<LockFailureKind, [Words, Words]> = {
  offline: ['error', 'errorDescription'],
  unauthorized: ['notSignedIn', 'notSignedInDescription'],
  forbidden: ['notAllowed', 'notAllowedDescription'],
  'not-found': ['noLockRoute', 'noLockRouteDescription'],
  server: ['serverError', 'errorDescription'],
  unexpected: ['unexpectedAnswer', 'errorDescription'],
};

/** Builds what the overlay shows for `state`, with the words and times already formatted. */
export function buildLockOverlayView(input: {
  state: LockOverlayState;
  lock: PageLockState;
  mode: LockOverlayMode;
  messages: LockOverlayMessages;
  serverNow: number;
  time: TimeFormatOptions;
  handlers: LockOverlayHandlers;
}): LockOverlayView {
  const { state, lock, messages, handlers } = input;
  const reason = lock.reason ?? 'released';
  const words: LockOverlayHolderWords = {
    name: lock.holder?.name ?? messages.someone,
    ...(lock.since === null
      ? { time: '', relative: '' }
      : formatSince(lock.since, input.serverNow, input.time)),
  };
  const failure =
    state === 'error' || (state === 'lost' && reason === 'unreachable')
      ? (lockFailureOf(lock.error) ?? 'offline')
      : null;
  // A holder whose refreshes are refused (signed out, say) says why, not "connection lost".
  const failureWords =
    failure && (state === 'error' || failure !== 'offline') ? FAILURE_WORDS[failure] : null;
  // "Edit here instead" in this user's other tab: not a rival's takeover.
  const toOwnTab = state === 'lost' && reason === 'taken-over' && lock.isSelf;

  const titleFor = (holder: LockOverlayHolderWords): string =>
    state === 'checking'
      ? messages.checking
      : state === 'locked'
        ? messages.lockedBy(holder)
        : state === 'self'
          ? messages.lockedBySelf(holder)
          : toOwnTab
            ? messages.openedInOtherTab
            : failureWords
              ? messages[failureWords[0]]
              : messages.lost(reason, holder);

  const action = (
    id: LockOverlayAction['id'],
    label: string,
    run: () => void,
    primary = false,
  ): LockOverlayAction => ({ id, label, primary, run });
  const goBack = action('go-back', messages.goBack, handlers.goBack);
  if (handlers.backHref !== undefined) goBack.href = handlers.backHref;
  const retry = action('retry', messages.retry, handlers.retry, true);

  let description = '';
  let actions: LockOverlayAction[] = [];
  if (state === 'locked') {
    description = messages.lockedDescription({
      ...words,
      canTakeOver: lock.canTakeOver,
      canAsk: lock.canAsk,
      inLine: lock.place !== null,
    });
    actions = lock.canTakeOver
      ? [goBack, action('take-over', messages.takeOver, handlers.takeOver, true)]
      : [{ ...goBack, primary: true }];
  } else if (state === 'self') {
    description = messages.lockedBySelfDescription;
    actions = [action('edit-here', messages.editHereInstead, handlers.takeOver, true), goBack];
  } else if (state === 'lost') {
    description = toOwnTab
      ? messages.openedInOtherTabDescription
      : messages.lostDescription(reason);
    const reload = action('reload', messages.reload, handlers.reload, reason !== 'unreachable');
    actions = reason === 'unreachable' ? [retry, reload] : [reload];
  } else if (state === 'error' && failureWords) {
    description = messages[failureWords[1]];
    // Retrying does not fix a refusal or a missing route: Go back comes first there.
    actions =
      failure === 'forbidden' || failure === 'not-found'
        ? [
            { ...goBack, primary: true },
            { ...retry, primary: false },
          ]
        : [retry, goBack];
  }

  return {
    state,
    lock,
    mode: input.mode,
    failure,
    holder: lock.holder,
    words,
    messages,
    title: titleFor(words),
    announcement: titleFor({ ...words, relative: '' }),
    description,
    actions,
  };
}
