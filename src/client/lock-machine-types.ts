import type { TakeOverResponse } from '../core/adapter';
import type { LockChangeKind } from '../protocol/live';
import type {
  AcquireResponse,
  AnswerResponse,
  AskResponse,
  Lock,
  StatusResponse,
  Waiter,
} from '../protocol/protocol';
import type { PageLockLostReason } from './lock-options';

// The lock machine's vocabulary: its states (which carry their data), the events it hears and
// the effects it asks the runtime for. The transitions are in lock-machine.ts.

/** Someone's lock as this tab last saw it. */
export interface Seen {
  lock: Lock;
  isSelf: boolean;
  canTakeOver: boolean;
  /** How many tabs wait in line for it (absent: none). */
  waiting?: number;
}

/**
 * What the holder is doing about its line or its idling, `id` naming the callback or request
 * it waits for: `hand-over` runs `onHandOver`, then answers; `decline` answers; `idle` runs
 * `onIdle`, then releases.
 */
export type HolderAction =
  | { id: number; kind: 'hand-over' | 'decline'; waiter: Waiter }
  | { id: number; kind: 'idle' };

/**
 * Where one tab's lock stands, each state with its own data. `request`: the id of the request the
 * state waits for (null: none on its way); an answer with another id is late and changes nothing.
 */
export type Phase =
  | { kind: 'idle' | 'stopped' }
  /**
   * `request` null: waiting for `pending` to land (a release could kill the token this reclaims).
   * `token`: a grant that came across a sleep, being confirmed. `cacheFence`: the fence held before
   * the back/forward cache; a grant beyond it + 1 means someone else edited meanwhile.
   */
  | {
      kind: 'acquiring';
      request: number | null;
      token: string | null;
      cacheFence: number | null;
      seen: Seen | null;
    }
  /**
   * `deadline`: when the lease lapses (monotonic). `confirm`: editing waits for a refresh.
   * `waiters`: who waits in line (the last answer's). `idleReleaseAt`: the idle warning shows,
   * releasing then (server clock).
   */
  | {
      kind: 'held';
      token: string;
      lock: Lock;
      request: number | null;
      deadline: number;
      confirm: null | 'round-trip' | 'after-sleep';
      waiters: readonly Waiter[];
      idleReleaseAt: number | null;
      action: HolderAction | null;
    }
  /** The deadline passed unanswered: shown `lost`, still refreshing. */
  | { kind: 'unreachable'; token: string; lock: Lock; request: number | null }
  /**
   * Not holding, looking with GET. `onFree`: what a free answer does; `manual`: waiting for
   * `acquire()`; `gaveUp`: after `release()`, a lease of this tab a look still sees is given back.
   */
  | {
      kind: 'looking';
      shows: 'free' | 'locked' | 'error';
      seen: Seen | null;
      onFree: 'acquire' | 'announce' | 'show';
      manual: boolean;
      gaveUp: boolean;
      request: number | null;
    }
  /**
   * Blocked and in line (shown `locked`); its poll is an ask with `renew`. `waiter`: this tab's
   * place as the last answer showed it, null while an ask (not a renew) is on its way.
   */
  | {
      kind: 'inLine';
      seen: Seen;
      request: number | null;
      place: number | null;
      waiter: Waiter | null;
    }
  /** Without an answer, back to `fallback`. */
  | { kind: 'takingOver'; request: number; seen: Seen; fallback: Phase }
  /** A 409 ended the lease; nothing runs until `acquire()` or `retry()`. */
  | { kind: 'lost'; reason: PageLockLostReason; seen: Seen | null }
  /** In the back/forward cache; `pageshow` comes back as what it `left`. */
  | { kind: 'paused'; left: Phase };

/** What a tab polls: a holder its lease, a tab in line its place, anyone else the status. */
export type PollKind = 'lease' | 'ask' | 'look';

export type Of<K extends Phase['kind']> = Extract<Phase, { kind: K }>;
export type Leasing = Of<'acquiring' | 'held' | 'unreachable'>;

export interface LockMachine {
  phase: Phase;
  mode: 'mount' | 'manual';
  /** The user the server named as this tab's (from a grant), or the app's. */
  selfUserId: string | null;
  ttlMs: number | null;
  /** Server time minus local time, once known. */
  offset: number | null;
  error: Error | null;
  nextId: number;
  /** First acquires, takeovers and releases on their way (late ones too): an acquire waits. */
  pending: readonly number[];
  /** The live stream is up for this resource: a look polls only as a safety net. */
  live: boolean;
  /** The adapter can ask to edit (`adapter.ask`). */
  canQueue: boolean;
}

/** The monotonic clock (the deadline's) and the wall clock. */
export interface Clock {
  mono: number;
  wall: number;
}

export type TabMessage = 'acquired' | 'released' | 'taken-over';
export type Answer<T, A> = { type: T; id: number; answer: A; sent: Clock; at: Clock };
export type AnswerEvent =
  | Answer<'leased', AcquireResponse>
  | Answer<'tookOver', TakeOverResponse>
  | Answer<'asked', AskResponse>
  | Answer<'answered', AnswerResponse>
  | (Omit<Answer<'status', StatusResponse>, 'id'> & {
      id: number | 'push';
      change?: LockChangeKind;
    });

export type LockEvent =
  | { type: 'start'; afterPreviousStop: boolean }
  | { type: 'mode'; mode: 'mount' | 'manual' }
  | { type: 'deadline'; at: Clock }
  | { type: 'otherTab'; message: TabMessage }
  | {
      type: 'stop' | 'acquire' | 'release' | 'takeOver' | 'retry' | 'recheck' | 'pollDue';
    }
  | { type: 'ask'; message?: string }
  | { type: 'leaveQueue' | 'keepEditing' | 'idleDue' }
  /** `waiterId` absent: the first in line (`decline`: the first whose request is pending). */
  | { type: 'handOver' | 'decline'; waiterId?: string }
  /** No input for `idleTimeout`: warn, releasing after `warning` ms. */
  | { type: 'idle'; warning: number; at: Clock }
  /** The awaited callbacks of `id` settled (`error`: one threw). */
  | { type: 'calledBack'; id: number; error?: Error }
  | { type: 'slept' | 'visible' | 'online' | 'pagehide' | 'pageshow' }
  /** The live stream came up or went down. */
  | { type: 'live'; up: boolean }
  /** Answers to request `id`, sent at `sent`; `status` with `id: 'push'` is pushed by the server. */
  | AnswerEvent
  /** `cancelled`: we cancelled it ourselves. */
  | { type: 'failed'; id: number; error: Error; cancelled: boolean }
  | { type: 'released'; id: number; error?: Error };

export type LockEffect =
  | { type: 'acquire'; id: number; token: string | null }
  | { type: 'look'; id: number }
  | { type: 'takeOver'; id: number; fence: number }
  /** `announce`: tell other tabs once it landed; `beacon`: the page is going away. */
  | {
      type: 'release';
      id: number;
      token: string;
      announce: boolean;
      beacon: boolean;
      reason?: 'idle';
    }
  /** Join the line (or ask again), or with `renew` keep the place (the poll in line). */
  | { type: 'ask'; id: number; renew: boolean; message?: string }
  /** Leave the line; nobody waits for the answer. */
  | { type: 'leave'; beacon: boolean }
  | { type: 'answer'; id: number; token: string; waiterId: string; answer: 'hand-over' | 'decline' }
  /** A look saw this tab's lease after `release()`: reclaim its token, then release it. */
  | { type: 'reclaim'; id: number }
  /** Cancel the refresh on its way (a first acquire never is: its grant is given back). */
  | { type: 'cancel' }
  /** Answer `released` with this id once the previous session's stop is over. */
  | { type: 'afterStop'; id: number }
  | { type: 'poll'; what: PollKind | null }
  /** Hear the live stream of this resource (`adapter.watch`), or stop hearing it. */
  | { type: 'watch'; on: boolean }
  | { type: 'deadline'; at: number | null }
  | { type: 'broadcast'; message: TabMessage }
  | { type: 'callback'; name: 'onAcquired' | 'onLost' | 'onAvailable' }
  /** Awaited: `calledBack` with this id once every callback settled. */
  | { type: 'callback'; name: 'onHandOver'; id: number; waiter: Waiter }
  | { type: 'callback'; name: 'onIdle'; id: number }
  | { type: 'report'; error: Error };
