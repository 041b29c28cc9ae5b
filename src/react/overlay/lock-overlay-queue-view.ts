import { LockAdapterError } from '../../core/adapter';
import type { Waiter } from '../../protocol/protocol';
import type { PageLockState } from '../types';
import type { LockOverlayMessages } from './lock-overlay-messages';

/**
 * What the blocked tab's ask part shows, as its `data-ask-state`: `ask` (the note and "Ask to
 * edit"), `in-line` (its place, what became of its request, "Leave the line"), or `none` (asking
 * is not possible; only how many wait).
 */
export type LockOverlayAskKind = 'ask' | 'in-line' | 'none';

/** The blocked tab's side of "Ask to edit", with its words already chosen. */
export interface LockOverlayAskView {
  kind: LockOverlayAskKind;
  /** The holder, as the messages name them. */
  holderName: string;
  /** "You are next", "2nd in line"; empty while the first answer is on its way. */
  place: string;
  /** "Waiting for Alice to answer" …; empty when this tab did not ask. */
  request: string;
  /** The holder declined or did not answer: "Ask again" is offered. */
  canAskAgain: boolean;
  /** "2 people are waiting…", for a tab that is not in line; empty when nobody waits. */
  othersWaiting: string;
}

/** True while this tab asked and waits in line (or its ask is on the way). */
export const isInLine = (lock: PageLockState): boolean =>
  lock.place !== null || lock.askState !== null;

/** The ask part of a tab blocked by another user; null when there is nothing to say. */
export function askViewOf(
  lock: PageLockState,
  messages: LockOverlayMessages,
): LockOverlayAskView | null {
  if (lock.status !== 'locked' || lock.isSelf) return null;
  const inLine = isInLine(lock);
  if (!inLine && !lock.canAsk && lock.waiting <= 0) return null;
  const holderName = lock.holder?.name ?? messages.someone;
  return {
    kind: inLine ? 'in-line' : lock.canAsk ? 'ask' : 'none',
    holderName,
    place: lock.place === null ? '' : messages.placeInLine({ place: lock.place }),
    request: lock.askState === null ? '' : messages.askState(lock.askState, { name: holderName }),
    canAskAgain: lock.askState === 'declined' || lock.askState === 'lapsed',
    othersWaiting:
      !inLine && lock.waiting > 0 ? messages.othersWaiting({ count: lock.waiting }) : '',
  };
}

/** Why the last ask failed, in the messages' words; empty when it did not. */
export function askFailureOf(error: PageLockState['error'], messages: LockOverlayMessages): string {
  if (error === null) return '';
  return messages.askFailed({
    queueFull: error instanceof LockAdapterError && error.code === 'queue-full',
  });
}

/**
 * What the holder's prompt shows, as its `data-state`: `asked` (someone's request waits for an
 * answer) or `waiting` (tabs wait in line, nobody's request is pending).
 */
export type LockOverlayPromptState = 'asked' | 'waiting';

/** The holder's prompt, with its words already chosen. */
export interface LockOverlayPromptView {
  state: LockOverlayPromptState;
  /** The first pending request, which Keep editing declines; null when none is pending. */
  request: Waiter | null;
  /** Whom Hand over gives the page to: the one who asks, else the first in line. */
  handOverTo: Waiter;
  /** Labels the prompt: "Bob asks to edit this page", or (nobody asks) "Bob is waiting". */
  title: string;
  /** The asker's note, quoted; empty without one. */
  note: string;
  /** "Bob and Carol are waiting", when it says more than the title; else empty. */
  waiting: string;
}

/** The prompt of a holder someone waits for; null when nobody does. */
export function holderPromptOf(
  lock: PageLockState,
  messages: LockOverlayMessages,
): LockOverlayPromptView | null {
  const [first] = lock.requests;
  if (lock.status !== 'held' || !first) return null;
  const request = lock.requests.find((waiter) => waiter.request === 'pending') ?? null;
  const waiting = messages.waitingInLine({ names: lock.requests.map(({ user }) => user.name) });
  if (!request) {
    return { state: 'waiting', request, handOverTo: first, title: waiting, note: '', waiting: '' };
  }
  const name = request.user.name;
  return {
    state: 'asked',
    request,
    handOverTo: request,
    title: messages.askedBy({ name }),
    note: request.message ? messages.askedNote({ name, message: request.message }) : '',
    // With one waiter, the one who asks, it would only repeat the title.
    waiting: lock.requests.length > 1 ? waiting : '',
  };
}

/** Whole seconds until the idle warning releases the page (never below 0). */
export const secondsUntil = (releaseAt: number, serverNow: number): number =>
  Math.max(0, Math.ceil((releaseAt - serverNow) / 1000));

/** What the idle warning says in full, for the live region. */
export const idleWarningText = (messages: LockOverlayMessages, seconds: number): string =>
  `${messages.idleTitle} ${messages.idleCountdown({ seconds })}`;
