import type { LockAdapterError } from '../core/adapter';
import type { Lock, LockUser, LostReason } from '../protocol/protocol';
import type { LockMachine } from './lock-state';

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
}

/** The state of a lock that is not running (disabled, not started, or server rendering). */
export function idleSnapshot(resourceId: string | undefined, isChecking = false): PageLockSnapshot {
  return {
    status: 'idle',
    isChecking,
    resourceId,
    holder: null,
    since: null,
    expiresAt: null,
    lock: null,
    isOwner: false,
    isSelf: false,
    canTakeOver: false,
    reason: null,
    token: null,
    fence: null,
    error: null,
    serverTimeOffset: 0,
  };
}

/** What hooks read, derived from the machine alone: the one writer of `status`. */
export function snapshotOf(machine: LockMachine, resourceId: string): PageLockSnapshot {
  const { phase } = machine;
  let status: PageLockStatus = 'idle';
  let lock: Lock | null = null;
  let token: string | null = null;
  let reason: PageLockLostReason | null = null;
  let isSelf = false;
  let canTakeOver = false;
  let confirming = false;
  switch (phase.kind) {
    case 'held':
      confirming = phase.confirm !== null;
      status = confirming ? 'acquiring' : 'held';
      ({ lock, token } = phase);
      break;
    case 'unreachable':
      status = 'lost';
      reason = 'unreachable';
      ({ lock, token } = phase);
      break;
    case 'lost':
      status = 'lost';
      reason = phase.reason;
      break;
    case 'looking':
      status = phase.shows;
      break;
    case 'acquiring':
    case 'takingOver':
      status = 'acquiring';
      break;
  }
  if ('seen' in phase && phase.seen) ({ lock, isSelf, canTakeOver } = phase.seen);
  const held = status === 'held';
  return {
    status,
    isChecking: status === 'acquiring' && !confirming && machine.mode === 'mount',
    resourceId,
    holder: lock?.holder ?? null,
    since: lock?.since ?? null,
    expiresAt: lock?.expiresAt ?? null,
    lock,
    isOwner: held,
    isSelf,
    canTakeOver,
    reason,
    token,
    fence: held ? (lock?.fence ?? null) : null,
    error: machine.error,
    serverTimeOffset: machine.offset ?? 0,
  };
}

/** Whether two snapshots show the same thing (answers are structurally shared by react-query). */
export function sameSnapshot(a: PageLockSnapshot, b: PageLockSnapshot): boolean {
  for (const key of Object.keys(a) as Array<keyof PageLockSnapshot>) {
    if (!Object.is(a[key], b[key])) return false;
  }
  return true;
}
