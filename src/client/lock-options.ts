import type { PageLockSnapshot } from './lock-snapshot';

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
}
