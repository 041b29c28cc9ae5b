import type { TakeOverResponse } from '../core/adapter';
import type { AcquireResponse, Lock, StatusResponse } from '../protocol/protocol';
import type { PageLockLostReason } from './lock-snapshot';

/** Someone else's lock as this tab last saw it. */
export interface Seen {
  lock: Lock;
  isSelf: boolean;
  canTakeOver: boolean;
}

/** What a tab was when its page went into the back/forward cache: it comes back as that. */
export type LeftAs =
  | { kind: 'holder'; fence: number }
  | { kind: 'lost'; reason: PageLockLostReason; seen: Seen | null }
  | { kind: 'blocked'; seen: Seen }
  | { kind: 'other' };

/**
 * Where one tab's lock stands. `request` is the id of the request whose answer this state waits
 * for (null: none on its way); an answer with another id is late and changes nothing here.
 */
export type Phase =
  | { kind: 'idle' }
  /**
   * The first acquire is on its way (`request` null: it waits for a release or a late grant's
   * give-back to land, which could kill the token it reclaims). `token` is set only when a grant
   * arrived across a sleep and is being confirmed. `cacheFence`: the fence held before the
   * back/forward cache; a grant beyond fence + 1 means someone else edited meanwhile.
   */
  | {
      kind: 'acquiring';
      request: number | null;
      token: string | null;
      cacheFence: number | null;
      seen: Seen | null;
    }
  /**
   * Held; `deadline` is when the lease lapses on the monotonic clock. `confirm`: after a hidden
   * period (`round-trip`) or a sleep (`after-sleep`) editing waits for a refresh to come back.
   */
  | {
      kind: 'held';
      token: string;
      lock: Lock;
      request: number | null;
      deadline: number;
      confirm: null | 'round-trip' | 'after-sleep';
    }
  /** Held, but the deadline passed without an answer: `lost` / `unreachable`, still refreshing. */
  | { kind: 'unreachable'; token: string; lock: Lock; request: number | null }
  /**
   * Not holding: looking with GET. `shows` the status; `onFree` says what a free answer does
   * (acquire after a failed first acquire, announce it to a blocked tab, or just show it);
   * `manual`: manual mode waiting for `acquire()`; `gaveUp`: `release()` was called, so a lease
   * of this tab that a look still sees is given back, not reclaimed.
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
  /** A takeover is on its way; without an answer the tab goes back to `lost` or `locked`. */
  | {
      kind: 'takingOver';
      request: number;
      seen: Seen;
      fallback: { kind: 'lost'; reason: PageLockLostReason } | { kind: 'locked' };
    }
  /** A 409 ended the lease; nothing runs until `acquire()` or `retry()`. */
  | { kind: 'lost'; reason: PageLockLostReason; seen: Seen | null }
  /** The page is in the back/forward cache (`pagehide`) until `pageshow`. */
  | { kind: 'paused'; left: LeftAs }
  | { kind: 'stopped' };

/** The whole machine: the phase, plus what outlives phases. */
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
  /** First acquires and takeovers on their way (current or late): an acquire waits for them. */
  grants: readonly number[];
  /** Releases and give-backs on their way: an acquire waits for them too. */
  releases: readonly number[];
}

/** When something happened: the monotonic clock (the deadline's) and the wall clock. */
export interface Clock {
  mono: number;
  wall: number;
}

export type LockEvent =
  | { type: 'start'; afterPreviousStop: boolean }
  | { type: 'stop' }
  | { type: 'mode'; mode: 'mount' | 'manual' }
  | { type: 'acquire' }
  | { type: 'release' }
  | { type: 'takeOver' }
  | { type: 'retry' }
  | { type: 'recheck' }
  | { type: 'pollDue' }
  | { type: 'deadline'; at: Clock }
  | { type: 'slept' }
  | { type: 'visible' }
  | { type: 'online' }
  | { type: 'pagehide' }
  | { type: 'pageshow' }
  | { type: 'otherTab'; message: 'acquired' | 'released' | 'taken-over' }
  /** `sleptInFlight`: the wall clock ran ahead of the monotonic one while it was on its way. */
  | {
      type: 'leased';
      id: number;
      answer: AcquireResponse;
      sentAt: number;
      at: Clock;
      sleptInFlight: boolean;
    }
  | { type: 'looked'; id: number; answer: StatusResponse; at: Clock }
  | { type: 'tookOver'; id: number; answer: TakeOverResponse; sentAt: number; at: Clock }
  /** A request got no answer (`cancelled`: we cancelled it ourselves). */
  | { type: 'failed'; id: number; error: Error; cancelled: boolean }
  | { type: 'released'; id: number; error?: Error };

export type LockEffect =
  | { type: 'acquire'; id: number; token: string | null }
  | { type: 'look'; id: number }
  | { type: 'takeOver'; id: number; expectedFence: number }
  /** `announce`: tell this browser's other tabs once it landed; `beacon`: the page is going away. */
  | { type: 'release'; id: number; token: string; announce: boolean; beacon: boolean }
  /** A look saw this tab's lease after `release()`: reclaim its token, then release it. */
  | { type: 'reclaimAndRelease'; id: number }
  /** Cancel a refresh on its way (a first acquire is never cancelled: its grant is given back). */
  | { type: 'cancelRefresh' }
  /** Wait for the previous session's stop, then send `released` with this id. */
  | { type: 'awaitPreviousStop'; id: number }
  | { type: 'poll'; what: 'lease' | 'look' | null }
  | { type: 'deadline'; at: number | null }
  | { type: 'broadcast'; message: 'acquired' | 'released' | 'taken-over' }
  | { type: 'callback'; name: 'onAcquired' | 'onLost' | 'onAvailable' }
  | { type: 'reportFailure'; error: Error };

export interface Transition {
  state: LockMachine;
  effects: LockEffect[];
}
