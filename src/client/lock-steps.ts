import type { AcquireResponse, Lock } from '../protocol/protocol';
import { isLeasing, isSelfHolder, looking, offsetAt, seen, tokenOf } from './lock-phase';
import type { PageLockLostReason } from './lock-snapshot';
import type { Clock, LeftAs, LockEffect, LockMachine, Phase } from './lock-state';

// The machine's transitions that several events share: entering a phase, sending its request.

export type Fx = LockEffect[];
export type Held = Extract<Phase, { kind: 'held' }>;

export function enterHeld(
  m: LockMachine,
  fx: Fx,
  answer: Extract<AcquireResponse, { status: 'held' }>,
  sentAt: number,
  at: Clock,
  from: Phase,
): LockMachine {
  const wasHeld = from.kind === 'held';
  const wasLost = from.kind === 'unreachable';
  const deadline = sentAt + (answer.lock.expiresAt - answer.now);
  m = {
    ...m,
    selfUserId: answer.lock.holder.id,
    ttlMs: answer.ttlMs,
    offset: offsetAt(m, answer.now, at),
    error: null,
  };
  const { token, lock } = answer;
  if (deadline <= at.mono && (wasHeld || wasLost)) {
    // Answered later than the lease it gives would last: it may have lapsed already. As when the
    // deadline passes: not the holder, token kept, trying again at the next poll.
    if (!wasLost) fx.push({ type: 'callback', name: 'onLost' });
    return { ...m, phase: { kind: 'unreachable', token, lock, request: null } };
  }
  if (!wasHeld) {
    // List views in this browser's other tabs show the new holder at once.
    fx.push({ type: 'broadcast', message: 'acquired' }, { type: 'callback', name: 'onAcquired' });
  }
  return { ...m, phase: { kind: 'held', token, lock, request: null, deadline, confirm: null } };
}

/** `isSelf`: the server's word that the lock's holder is this user (another tab of theirs). */
export function enterLost(
  m: LockMachine,
  fx: Fx,
  reason: PageLockLostReason,
  lock: Lock | null,
  isSelf: boolean | undefined,
  wasLost: boolean,
): LockMachine {
  if (!wasLost) fx.push({ type: 'callback', name: 'onLost' });
  const self = lock !== null && (isSelf ?? isSelfHolder(m, lock));
  return { ...m, phase: { kind: 'lost', reason, seen: lock ? seen(lock, self, self) : null } };
}

/** The lease ran out while the server could not confirm it: stop editing, keep trying. */
export function ranOut(m: LockMachine, fx: Fx, p: Held): LockMachine {
  fx.push({ type: 'callback', name: 'onLost' });
  return { ...m, phase: { kind: 'unreachable', token: p.token, lock: p.lock, request: p.request } };
}

/** While held: stop editing until a refresh, sent now (or already on its way), comes back. */
export function confirm(m: LockMachine, fx: Fx, p: Held, why: 'round-trip' | 'after-sleep') {
  const next = { ...p, confirm: why };
  return p.request === null ? send(m, fx, next) : { ...m, phase: next };
}

export function begin(m: LockMachine, fx: Fx): LockMachine {
  if (m.mode === 'mount') return startLeasing(m, fx);
  return send(m, fx, looking('free', null, 'show', { manual: true }));
}

export function startLeasing(
  m: LockMachine,
  fx: Fx,
  cacheFence: number | null = null,
): LockMachine {
  const p = m.phase;
  const phase: Phase = {
    kind: 'acquiring',
    request: null,
    token: null,
    cacheFence,
    seen: 'seen' in p ? p.seen : null,
  };
  // An acquire now could reclaim the very token a release (or give-back) is about to kill.
  if (m.grants.length > 0 || m.releases.length > 0) return { ...m, phase };
  return send(m, fx, phase);
}

/** A release or a late grant landed: an acquire that waited for it goes now. */
export function settle(m: LockMachine, fx: Fx): LockMachine {
  const p = m.phase;
  if (p.kind !== 'acquiring' || p.request !== null || p.token !== null) return m;
  return m.grants.length > 0 || m.releases.length > 0 ? m : send(m, fx, p);
}

/** Look or refresh now, unless a request of this phase is on its way already (it counts). */
export function askNow(m: LockMachine, fx: Fx): LockMachine {
  const p = m.phase;
  if (p.kind === 'looking' || (isLeasing(p) && p.token !== null)) {
    return p.request === null ? send(m, fx, p) : m;
  }
  return m;
}

/** Enter `phase` with its request sent: an acquire (or refresh) or a look. */
export function send(m: LockMachine, fx: Fx, phase: Phase): LockMachine {
  const id = m.nextId;
  m = { ...m, nextId: id + 1 };
  if (phase.kind === 'looking') {
    fx.push({ type: 'look', id });
    return { ...m, phase: { ...phase, request: id } };
  }
  if (!isLeasing(phase)) return { ...m, phase };
  fx.push({ type: 'acquire', id, token: phase.token });
  // A first acquire is never cancelled; if the tab moved on, its grant is given back.
  const grants = phase.kind === 'acquiring' ? [...m.grants, id] : m.grants;
  return { ...m, grants, phase: { ...phase, request: id } };
}

export function release(
  m: LockMachine,
  fx: Fx,
  token: string,
  how: { announce: boolean; beacon: boolean; wait: boolean },
): LockMachine {
  const id = m.nextId;
  fx.push({ type: 'release', id, token, announce: how.announce, beacon: how.beacon });
  return { ...m, nextId: id + 1, releases: how.wait ? [...m.releases, id] : m.releases };
}

/** A grant that arrived after the tab moved on: give it back unless it is still ours. */
export function giveBack(m: LockMachine, fx: Fx, answer: { status: string; token?: string }) {
  if (answer.status !== 'held' || !answer.token || answer.token === tokenOf(m.phase)) return m;
  return release(m, fx, answer.token, { announce: false, beacon: false, wait: true });
}

export function comeBack(m: LockMachine, fx: Fx, left: LeftAs): LockMachine {
  m = { ...m, phase: { kind: 'idle' } };
  switch (left.kind) {
    case 'holder':
      return startLeasing(m, fx, left.fence);
    case 'lost':
      // Still stale, still nothing to poll.
      return { ...m, phase: { kind: 'lost', reason: left.reason, seen: left.seen } };
    case 'blocked': {
      // A blocked tab looks, never acquires: when the page is free it reloads (`onAvailable`).
      const { lock, canTakeOver } = left.seen;
      return send(
        m,
        fx,
        looking('locked', seen(lock, isSelfHolder(m, lock), canTakeOver), 'announce'),
      );
    }
    case 'other':
      return begin(m, fx);
  }
}
