import type { LockAdapterError } from '../core/adapter';
import type { Lock, LockUser, LostReason } from '../core/protocol';

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

/** Why a tab lost its lock: the server's 409 reasons, or `unreachable` when its lease ran out offline. */
export type PageLockLostReason = LostReason | 'unreachable';

/** What `usePageLock` returns. */
export interface PageLockState {
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
  /** Acquire now (manual mode, or after `free`). */
  acquire: () => void;
  /** Give the lock back. */
  release: () => Promise<void>;
  /** Take the lock from its holder (or "edit here instead" for `isSelf`). */
  takeOver: () => Promise<void>;
  /** Try again after `error` or `lost`. */
  retry: () => void;
  /**
   * Bring the lock state up to date now, with one round trip, instead of at the next poll. Call
   * it when the app's save was refused (423 from `lockErrorResponse`, or 409 `conflict`): a
   * holder refreshes its lease at once, so a lease that is no longer live turns `lost` with the
   * server's `reason` (`taken-over`, `expired`, …) and the overlay says so; a blocked or free
   * tab looks again. The editor's text stays on screen (read-only once `lost`), so the user
   * can copy it. The promise settles when the answer is applied (it never rejects: a failure
   * shows as `error` in the state); after `lost` there is nothing to ask and it settles at once.
   *
   * @example
   * const response = await fetch(`/api/pages/${id}`, { method: 'PUT', headers: { 'Page-Lock-Token': lock.token ?? '' }, body });
   * if (response.status === 423 || response.status === 409) await lock.recheck();
   */
  recheck: () => Promise<void>;
}
