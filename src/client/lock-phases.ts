import { LockAdapterError } from '../core/adapter';
import type { Lock, Waiter } from '../protocol/protocol';
import type { Clock, Leasing, LockMachine, Of, Phase, PollKind, Seen } from './lock-machine-types';

// The lock machine's phases: how they are made and what each one runs (poll, stream). The
// transitions between them are in lock-machine.ts.

export const initialMachine = (
  mode: LockMachine['mode'],
  selfUserId: string | null = null,
  canQueue = false,
): LockMachine => ({
  phase: { kind: 'idle' },
  mode,
  selfUserId,
  ttlMs: null,
  offset: null,
  error: null,
  nextId: 1,
  pending: [],
  live: false,
  canQueue,
});

/** Nobody waits: one shared empty line, so an unchanged snapshot stays the same object. */
export const NOBODY: readonly Waiter[] = Object.freeze([]);

export const leasing = (p: Phase): p is Leasing =>
  p.kind === 'acquiring' || p.kind === 'held' || p.kind === 'unreachable';

export const seenLock = (lock: Lock, isSelf: boolean, canTakeOver: boolean, waiting = 0): Seen => ({
  lock,
  isSelf,
  canTakeOver: canTakeOver || isSelf,
  waiting,
});

const LOOKING = { kind: 'looking', manual: false, gaveUp: false, request: null } as const;
export const looking = (
  shows: Of<'looking'>['shows'],
  seen: Seen | null,
  onFree: Of<'looking'>['onFree'],
  more: { gaveUp?: boolean; manual?: boolean } = {},
): Of<'looking'> => ({ ...LOOKING, shows, seen, onFree, ...more });

/** A wall clock that ran this much further than the monotonic one means the machine slept. */
export const SLEEP_GAP = 5_000;
export const slept = (then: Clock, now: Clock) =>
  now.wall - then.wall - (now.mono - then.mono) > SLEEP_GAP;

/** The server answered and said no (not a request that got no answer). */
export const refusedBy = (error: Error, code?: LockAdapterError['code']): boolean =>
  error instanceof LockAdapterError &&
  error.kind !== 'network' &&
  (code === undefined || error.code === code);

/**
 * Only looking, leasing and waiting tabs hear the stream: not before start, once stopped, nor
 * when paused.
 */
export function watches(p: Phase): boolean {
  return p.kind !== 'idle' && p.kind !== 'stopped' && p.kind !== 'paused';
}

/**
 * Only a holder refreshes (or a tab confirming a grant) and a tab in line renews its place;
 * anyone else looks with GET.
 */
export function pollOf(p: Phase): PollKind | null {
  if (p.kind === 'looking') return 'look';
  if (p.kind === 'inLine') return 'ask';
  return leasing(p) && p.token !== null ? 'lease' : null;
}
