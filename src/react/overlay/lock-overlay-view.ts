import { type LockFailureKind, lockFailureOf } from '../../core/lock-failure';
import type { LockUser } from '../../core/protocol';
import type { PageLockState } from '../types';
import type { LockOverlayHolderWords, LockOverlayMessages } from './lock-overlay-messages';
import { formatSince, type TimeFormatOptions } from './relative-time';

/**
 * What the overlay shows, as its `data-state`: the first answer is on its way (`checking`),
 * another user holds the page (`locked`), this user holds it in another tab (`self`), this tab
 * lost it (`lost`), the server could not be asked (`error`; `failure` says why).
 */
export type LockOverlayState = 'checking' | 'locked' | 'self' | 'lost' | 'error';

/** The buttons the overlay may offer; each default button carries it as `data-action`. */
export type LockOverlayActionId = 'go-back' | 'take-over' | 'edit-here' | 'reload' | 'retry';

/** One button of the overlay, ready for a custom `renderActions` to draw. */
export interface LockOverlayAction {
  id: LockOverlayActionId;
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
  /**
   * `modal`: covers an inert editor. `read-only`: a lost lock, the editor stays visible and
   * selectable but cannot be edited. `notice`: the editor stays usable (`blockEditing={false}`).
   * `checking`: the editor is inert under a quiet status, no dialog, while the first answer is
   * on its way.
   */
  mode: 'modal' | 'read-only' | 'notice' | 'checking';
  /**
   * Why the server could not be asked, for `error` (and `lost` with `unreachable`): `offline`,
   * `unauthorized`, `forbidden`, `not-found`, `server` or `unexpected`; null otherwise.
   */
  failure: LockFailureKind | null;
  holder: LockUser | null;
  /** The holder's name and since when, formatted, as the messages receive them. */
  words: LockOverlayHolderWords;
  /** The message that labels the dialog (or notice). */
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
  switch (lock.status) {
    case 'locked':
      return lock.isSelf ? 'self' : 'locked';
    case 'lost':
      return 'lost';
    case 'error':
      return 'error';
    default:
      return null;
  }
}

/** The handlers behind the actions, decided by the component. */
export interface LockOverlayHandlers {
  goBack: () => void;
  backHref: string | undefined;
  takeOver: () => void;
  reload: () => void;
  retry: () => void;
}

/** Builds what the overlay shows for `state`, with the words and times already formatted. */
export function buildLockOverlayView(input: {
  state: LockOverlayState;
  lock: PageLockState;
  mode: LockOverlayView['mode'];
  messages: LockOverlayMessages;
  serverNow: number;
  time: TimeFormatOptions;
  handlers: LockOverlayHandlers;
}): LockOverlayView {
  const { state, lock, messages, handlers } = input;
  const words: LockOverlayHolderWords = {
    name: lock.holder?.name ?? messages.someone,
    ...(lock.since === null
      ? { time: '', relative: '' }
      : formatSince(lock.since, input.serverNow, input.time)),
  };
  const goBack: LockOverlayAction = {
    id: 'go-back',
    label: messages.goBack,
    primary: false,
    run: handlers.goBack,
    ...(handlers.backHref === undefined ? {} : { href: handlers.backHref }),
  };
  const reason = lock.reason ?? 'released';
  const failure =
    state === 'error' || (state === 'lost' && reason === 'unreachable')
      ? (lockFailureOf(lock.error) ?? 'offline')
      : null;
  // "Edit here instead" in this user's other tab: not a rival's takeover.
  const toOwnTab = state === 'lost' && reason === 'taken-over' && lock.isSelf;
  // A holder whose refreshes are refused (signed out, say) says why, not "connection lost".
  const lostTo = reason === 'unreachable' && failure !== null && failure !== 'offline';

  const titleFor: Record<LockOverlayState, (words: LockOverlayHolderWords) => string> = {
    checking: () => messages.checking,
    locked: (words) => messages.lockedBy(words),
    self: (words) => messages.lockedBySelf(words),
    lost: (words) => {
      if (toOwnTab) return messages.openedInOtherTab;
      if (lostTo && failure) return failureTitle(messages, failure);
      return messages.lost(reason, words);
    },
    error: () => failureTitle(messages, failure ?? 'offline'),
  };
  const retry: LockOverlayAction = {
    id: 'retry',
    label: messages.retry,
    primary: true,
    run: handlers.retry,
  };
  const byState: Record<LockOverlayState, () => Pick<LockOverlayView, 'description' | 'actions'>> =
    {
      checking: () => ({ description: '', actions: [] }),
      locked: () => ({
        description: messages.lockedDescription({ ...words, canTakeOver: lock.canTakeOver }),
        actions: lock.canTakeOver
          ? [
              goBack,
              { id: 'take-over', label: messages.takeOver, primary: true, run: handlers.takeOver },
            ]
          : [{ ...goBack, primary: true }],
      }),
      self: () => ({
        description: messages.lockedBySelfDescription,
        actions: [
          {
            id: 'edit-here',
            label: messages.editHereInstead,
            primary: true,
            run: handlers.takeOver,
          },
          goBack,
        ],
      }),
      lost: () => ({
        description: toOwnTab
          ? messages.openedInOtherTabDescription
          : messages.lostDescription(reason),
        actions:
          reason === 'unreachable'
            ? [
                retry,
                { id: 'reload', label: messages.reload, primary: false, run: handlers.reload },
              ]
            : [{ id: 'reload', label: messages.reload, primary: true, run: handlers.reload }],
      }),
      error: () => {
        const kind = failure ?? 'offline';
        // Retrying does not fix a refusal or a missing route: Go back comes first there.
        const refused = kind === 'forbidden' || kind === 'not-found';
        return {
          description: failureDescription(messages, kind),
          actions: refused
            ? [
                { ...goBack, primary: true },
                { ...retry, primary: false },
              ]
            : [retry, goBack],
        };
      },
    };

  return {
    state,
    lock,
    mode: input.mode,
    failure,
    holder: lock.holder,
    words,
    messages,
    title: titleFor[state](words),
    announcement: titleFor[state]({ ...words, relative: '' }),
    ...byState[state](),
  };
}

/** The title for a failure kind. */
function failureTitle(messages: LockOverlayMessages, kind: LockFailureKind): string {
  switch (kind) {
    case 'offline':
      return messages.error;
    case 'unauthorized':
      return messages.notSignedIn;
    case 'forbidden':
      return messages.notAllowed;
    case 'not-found':
      return messages.noLockRoute;
    case 'server':
      return messages.serverError;
    case 'unexpected':
      return messages.unexpectedAnswer;
  }
}

/** The describing sentence for a failure kind. */
function failureDescription(messages: LockOverlayMessages, kind: LockFailureKind): string {
  switch (kind) {
    case 'unauthorized':
      return messages.notSignedInDescription;
    case 'forbidden':
      return messages.notAllowedDescription;
    case 'not-found':
      return messages.noLockRouteDescription;
    default:
      return messages.errorDescription;
  }
}
