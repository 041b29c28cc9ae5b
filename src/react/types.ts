import type { PageLockLostReason, PageLockSnapshot, PageLockStatus } from '../client/lock-snapshot';

export type { PageLockLostReason, PageLockStatus };

/** What `usePageLock` returns: the snapshot and the actions. */
export interface PageLockState extends PageLockSnapshot {
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
  /**
   * Ask the holder to hand the page over (an optional note, at most 200 characters), and wait in
   * line: the tab keeps its place by polling and takes the page when it reaches the front.
   */
  ask: (message?: string) => void;
  /** Leave the line (the tab's request ends too). */
  leaveQueue: () => void;
  /**
   * Hand the page to a waiter (default: the first in line): runs `onHandOver`, then gives the
   * lock to that waiter's tab. Settles once done; a failure shows in `error`.
   */
  handOver: (waiterId?: string) => Promise<void>;
  /** Answer a waiter's request with "Keep editing" (default: the first pending one). */
  decline: (waiterId?: string) => Promise<void>;
  /** Answer the idle warning: the user is still editing (counts as input). */
  keepEditing: () => void;
}
