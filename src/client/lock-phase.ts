import type { Lock } from '../protocol/protocol';
import type { Clock, LeftAs, LockMachine, Phase, Seen } from './lock-state';

// The machine's small pure helpers: how a phase is built, read and left behind.

export type Leasing = Extract<Phase, { kind: 'acquiring' | 'held' | 'unreachable' }>;

/** A machine that has not started. */
export function initialMachine(
  mode: 'mount' | 'manual',
  selfUserId: string | null = null,
): LockMachine {
  return {
    phase: { kind: 'idle' },
    mode,
    selfUserId,
    ttlMs: null,
    offset: null,
    error: null,
    nextId: 1,
    grants: [],
    releases: [],
  };
}

export function leftAs(p: Phase): LeftAs {
  if (p.kind === 'held' || p.kind === 'unreachable') return { kind: 'holder', fence: p.lock.fence };
  if (p.kind === 'lost') return { kind: 'lost', reason: p.reason, seen: p.seen };
  if (p.kind === 'looking' && p.onFree === 'announce' && p.seen)
    return { kind: 'blocked', seen: p.seen };
  return { kind: 'other' };
}

export function looking(
  shows: 'free' | 'locked' | 'error',
  seenLock: Seen | null,
  onFree: 'acquire' | 'announce' | 'show',
  more: { gaveUp?: boolean; manual?: boolean } = {},
): Phase {
  const { gaveUp = false, manual = false } = more;
  return { kind: 'looking', shows, seen: seenLock, onFree, manual, gaveUp, request: null };
}

/** Someone holds it now: when it frees up this tab is told, it does not grab it. */
export function blocked(seenLock: Seen) {
  return { shows: 'locked' as const, seen: seenLock, onFree: 'announce' as const, manual: false };
}

export function seen(lock: Lock, isSelf: boolean, canTakeOver: boolean): Seen {
  return { lock, isSelf, canTakeOver: canTakeOver || isSelf };
}

export function isSelfHolder(m: LockMachine, lock: Lock): boolean {
  return m.selfUserId !== null && lock.holder.id === m.selfUserId;
}

export function isLeasing(p: Phase): p is Leasing {
  return p.kind === 'acquiring' || p.kind === 'held' || p.kind === 'unreachable';
}

export function tokenOf(p: Phase): string | null {
  return isLeasing(p) ? p.token : null;
}

/** A refresh (with a token) on its way: the only lease request that may be cancelled. */
export function refreshing(p: Phase): boolean {
  return isLeasing(p) && p.token !== null && p.request !== null;
}

export function forget(m: LockMachine, id: number): LockMachine {
  return m.grants.includes(id) ? { ...m, grants: m.grants.filter((g) => g !== id) } : m;
}

/** Within a second is close enough for "5 minutes ago", and spares a render per poll. */
export function offsetAt(m: LockMachine, serverNow: number, at: Clock): number {
  const offset = serverNow - at.wall;
  return m.offset !== null && Math.abs(offset - m.offset) <= 1_000 ? m.offset : offset;
}

export function pollOf(p: Phase): 'lease' | 'look' | null {
  if (p.kind === 'looking') return 'look';
  // Only a holder refreshes (or a tab confirming a grant); anyone else looks with GET.
  return isLeasing(p) && p.token !== null ? 'lease' : null;
}

export function deadlineOf(p: Phase): number | null {
  return p.kind === 'held' ? p.deadline : null;
}
