import { initialMachine, type LockMachine, NOBODY, type Phase } from './lock-machine';
import type { PageLockSnapshot, PageLockStatus } from './lock-options';

export type { PageLockLostReason, PageLockSnapshot, PageLockStatus } from './lock-options';

/** The state of a lock that is not running (disabled, not started, or server rendering). */
export function idleSnapshot(resourceId: string | undefined, isChecking = false): PageLockSnapshot {
  return { ...snapshotOf(initialMachine('mount'), resourceId), isChecking };
}

const STATUS = {
  idle: 'idle',
  stopped: 'idle',
  paused: 'idle',
  acquiring: 'acquiring',
  takingOver: 'acquiring',
  held: 'held',
  unreachable: 'lost',
  lost: 'lost',
  looking: 'free',
  inLine: 'locked',
} as const satisfies Record<Phase['kind'], PageLockStatus>;

/** What hooks read, derived from the machine alone: the one writer of `status`. */
export function snapshotOf(m: LockMachine, resourceId: string | undefined): PageLockSnapshot {
  const p = m.phase;
  const lease = p.kind === 'held' || p.kind === 'unreachable' ? p : null;
  const seen = 'seen' in p ? p.seen : null;
  const lock = lease?.lock ?? seen?.lock ?? null;
  const confirming = p.kind === 'held' && p.confirm !== null;
  const status = confirming ? 'acquiring' : p.kind === 'looking' ? p.shows : STATUS[p.kind];
  const held = status === 'held';
  const line = p.kind === 'inLine' ? p : null;
  return {
    status,
    isChecking: status === 'acquiring' && !confirming && m.mode === 'mount',
    resourceId,
    holder: lock?.holder ?? null,
    since: lock?.since ?? null,
    expiresAt: lock?.expiresAt ?? null,
    lock,
    isOwner: held,
    isSelf: seen?.isSelf ?? false,
    canTakeOver: seen?.canTakeOver ?? false,
    reason: p.kind === 'lost' ? p.reason : p.kind === 'unreachable' ? 'unreachable' : null,
    token: lease?.token ?? null,
    fence: held && lock ? lock.fence : null,
    error: m.error,
    serverTimeOffset: m.offset ?? 0,
    requests: p.kind === 'held' ? p.waiters : NOBODY,
    place: line?.place ?? null,
    // A waiter shown null is an ask (not a renew) on its way.
    askState: line ? (line.waiter?.request ?? 'sending') : null,
    waiting: seen?.waiting ?? 0,
    idleReleaseAt: p.kind === 'held' ? p.idleReleaseAt : null,
    canAsk: m.canQueue && status === 'locked' && !line && seen !== null && !seen.isSelf,
  };
}
