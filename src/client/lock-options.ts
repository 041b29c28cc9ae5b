import type { LockAdapterError } from '../core/adapter';
import type { AskState, Lock, LockUser, LostReason, Waiter } from '../protocol/protocol';

/** Poll every 10 s unless told otherwise (the seed's CONCURRENT_POLLING_INTERVAL). */
export const DEFAULT_POLL_INTERVAL = 10_000;

/** When a tab asks for the lock: as the page opens (the seed's way), or when `acquire()` is called. */
export type AcquireMode = 'mount' | 'manual';

/** What every user of a resource's lock may set; the provider takes the same as defaults. */
export interface PageLockCallbacks {
  /** This tab got the lock (first grant, takeover, or back after `lost`). */
  onAcquired?: (state: PageLockSnapshot) => void;
  /**
   * This tab held the lock and no longer does (`state.reason` says why): save a draft here.
   * Runs for `unreachable` too, when the lease ran out while the server could not be reached.
   */
  onLost?: (state: PageLockSnapshot) => void;
  /**
   * A blocked tab saw the resource become free. Without it the page reloads (through the
   * navigation helper, see `setNavigation`), but only once the tab is visible.
   */
  onAvailable?: (state: PageLockSnapshot) => void;
  /**
   * The holder chose "Hand over" to a waiter: save or store a draft here. It may be async; the
   * page goes to the waiter once it settles (if it throws, nothing is handed over and the tab
   * keeps the lock, with the error in `state.error`).
   */
  onHandOver?: (state: PageLockSnapshot, to: Waiter) => void | Promise<void>;
  /**
   * The holder idled out (`idleTimeout`) and did not answer the warning: save a draft here. It
   * may be async; the page is released once it settles.
   */
  onIdle?: (state: PageLockSnapshot) => void | Promise<void>;
}

/** Options of `usePageLock` (and, as defaults, of `<PageLockProvider>`). */
export interface PageLockOptions extends PageLockCallbacks {
  /**
   * How often to refresh the lease (or, blocked, to look again), in ms. Default 10 000; clamped
   * to at most a third of the server's TTL. When several hooks share a resource the smallest wins.
   */
  pollInterval?: number;
  /** `"mount"` (default): lock when the page opens. `"manual"`: lock on `acquire()`. */
  acquire?: AcquireMode;
  /** `false`: do nothing and stay `idle` (default true). */
  enabled?: boolean;
  /**
   * Idle release, in ms (default off). After this long with no input in the editor (a hidden
   * tab counts as idle), the holder is warned ("Are you still editing?"); without an answer
   * within `idleWarning`, `onIdle` runs and the page is released, to the first waiter if any.
   */
  idleTimeout?: number;
  /** How long the idle warning shows before the page is released, in ms (default 60 000). */
  idleWarning?: number;
}

/**
 * Where a tab stands with one resource (DESIGN.md, "Client state"):
 * - `idle`: disabled, or not started yet (and always during server rendering);
 * - `acquiring`: the first acquire is on its way;
 * - `held`: this tab holds the lock and may edit;
 * - `locked`: someone else (or this user in another tab, `isSelf`) holds it;
 * - `free`: manual mode before `acquire()`, after `release()`, or a blocked tab that saw it free;
 * - `lost`: this tab held it and no longer does (`reason` says why); its copy may be stale;
 * - `error`: the server could not be reached while not holding.
 */
export type PageLockStatus = 'idle' | 'acquiring' | 'held' | 'locked' | 'free' | 'lost' | 'error';

/**
 * Why a tab lost its lock: the server's 409 reasons (`handed-over` and `idle` included, when this
 * tab ended it so), or `unreachable` when its lease ran out offline.
 */
export type PageLockLostReason = LostReason | 'unreachable';

/** What `usePageLock` returns without its actions; callbacks are given it too. */
export interface PageLockSnapshot {
  status: PageLockStatus;
  /**
   * This tab is finding out whether it may edit: a lock that is acquired on mount (`acquire:
   * "mount"`) before its first answer, from the very first render (before anything runs, and
   * during server rendering), and while a takeover or a try after `lost`/`error` is on its way.
   * `<LockOverlay>` keeps the editor inert meanwhile, so nothing typed freezes under a late
   * overlay. Never in manual mode, and not while a held lease is being re-confirmed.
   */
  isChecking: boolean;
  resourceId: string | undefined;
  /** Who holds the lock (this user when `held`), when anyone does. */
  holder: LockUser | null;
  /** Since when the holder has held it without interruption (epoch ms, server clock). */
  since: number | null;
  /** When the current lease lapses unless refreshed (epoch ms, server clock). */
  expiresAt: number | null;
  /** The lock as last seen, when anyone holds it. */
  lock: Lock | null;
  /** This tab holds the lock (`status === 'held'`). */
  isOwner: boolean;
  /**
   * The holder is this user, in another tab or device: for `locked` ("edit here instead"), and
   * for `lost` when this user took the page over in another tab.
   */
  isSelf: boolean;
  /** This user may take the lock over (always for `isSelf`). */
  canTakeOver: boolean;
  /** Why the lock was lost, for `lost`. */
  reason: PageLockLostReason | null;
  /** The lease token while held: send it with saves (`Page-Lock-Token` header). */
  token: string | null;
  /** The fence of the lock while held: store it with the content (DESIGN.md, "Operations"). */
  fence: number | null;
  /**
   * The last error talking to the server, for `error` (and `lost` with `unreachable`).
   * `lockFailureOf(error)` tells its kind: `offline`, `unauthorized`, `forbidden`, `not-found`,
   * `server` or `unexpected`.
   */
  error: LockAdapterError | Error | null;
  /** Server time minus local time (ms), for showing relative times in the server's terms. */
  serverTimeOffset: number;
  /** For the holder: who waits in line, first first (empty when nobody does). */
  requests: readonly Waiter[];
  /** For a tab in line: its place (1 = next), else null. */
  place: number | null;
  /**
   * For a tab that asked to edit: `sending` while the ask is on its way, then what became of it
   * (`pending`, `declined`: "still editing", `lapsed`: unanswered); null when it did not ask.
   */
  askState: 'sending' | AskState | null;
  /** How many tabs wait in line, as a blocked tab last saw it (0: none). */
  waiting: number;
  /** For the holder: when the idle warning releases the page (epoch ms, server clock), else null. */
  idleReleaseAt: number | null;
  /** Ask to edit is possible: the adapter supports it and this tab is blocked by another user. */
  canAsk: boolean;
}

export type { AskState, Waiter };
