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
  /** The holder is this user, in another tab or device. */
  isSelf: boolean;
  /** This user may take the lock over (always for `isSelf`). */
  canTakeOver: boolean;
  /** Why the lock was lost, for `lost`. */
  reason: PageLockLostReason | null;
  /** The lease token while held: send it with saves (`Page-Lock-Token` header). */
  token: string | null;
  /** The fence of the lock while held: store it with the content (DESIGN.md, "Operations"). */
  fence: number | null;
  /** The last error talking to the server, for `error` (and `lost` with `unreachable`). */
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
}
