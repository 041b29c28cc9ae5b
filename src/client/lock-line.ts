import type { HeldResponse, Lock, Waiter } from '../protocol/protocol';
import type {
  Clock,
  Leasing,
  LockEffect,
  LockEvent,
  LockMachine,
  Of,
  Phase,
} from './lock-machine-types';
import { looking, refusedBy, seenLock } from './lock-phases';

// The line's transitions, both sides of it: a blocked tab asks and waits in line (`inLine`); the
// holder hands over, declines, or idles out. Part of the pure reducer in lock-machine.ts, which
// lends them its state so far and its ways to change it.

/** What the reducer lends: the phase before the event, the machine so far, and its helpers. */
export interface LineStep {
  readonly p: Phase;
  readonly m: LockMachine;
  readonly fx: LockEffect[];
  set(more: Partial<LockMachine>): LockMachine;
  go(phase: Phase): LockMachine;
  /** A request's (or awaited callback's) id; `waits`: an acquire waits for its answer. */
  issue(effect: (id: number) => LockEffect, waits: boolean): number;
  /** Enter `phase` with its request (look, renew, refresh) sent. */
  send(phase: Of<'looking' | 'inLine'> | Leasing): LockMachine;
  release(token: string, announce: boolean, beacon?: boolean, idle?: boolean): number;
  heard(answer: { now: number; ttlMs?: number }, at: Clock, error?: Error | null): LockMachine;
  enterHeld(answer: { answer: HeldResponse; sent: Clock; at: Clock }): LockMachine;
  giveBack(answer: { status: string; token?: string }): LockMachine;
  startLeasing(): LockMachine;
}

export type LineEvent = Extract<
  LockEvent,
  {
    type:
      | 'ask'
      | 'leaveQueue'
      | 'asked'
      | 'handOver'
      | 'decline'
      | 'calledBack'
      | 'answered'
      | 'idle'
      | 'keepEditing'
      | 'idleDue';
  }
>;

export function stepLine(t: LineStep, e: LineEvent): LockMachine {
  const { p, m, fx } = t;
  switch (e.type) {
    case 'ask': {
      const seen =
        p.kind === 'inLine' || (p.kind === 'looking' && p.shows === 'locked') ? p.seen : null;
      if (!m.canQueue || !seen || seen.isSelf) return m;
      const message = e.message?.trim() || undefined; // an empty note is none
      const request = t.issue((id) => ({ type: 'ask', id, renew: false, message }), false);
      const place = p.kind === 'inLine' ? p.place : null;
      return t.go({ kind: 'inLine', seen, request, place, waiter: null });
    }
    case 'leaveQueue':
      if (p.kind !== 'inLine') return m;
      fx.push({ type: 'leave', beacon: false });
      return t.send(looking('locked', p.seen, 'announce'));
    case 'asked': {
      const { answer } = e;
      if (p.kind !== 'inLine' || p.request !== e.id) return t.giveBack(answer);
      if (answer.status === 'held') return t.enterHeld({ ...e, answer }); // handed or passed on
      t.heard(answer, e.at);
      const { lock, place, waiter } = answer;
      return t.go({ ...p, seen: { ...p.seen, lock }, request: null, place, waiter });
    }
    case 'handOver':
    case 'decline': {
      if (p.kind !== 'held' || p.action) return m;
      const { waiterId } = e;
      const waiter = p.waiters.find((w) =>
        waiterId !== undefined
          ? w.id === waiterId
          : e.type === 'handOver' || w.request === 'pending',
      );
      if (!waiter) return m;
      if (e.type === 'decline') return answer(t, p, waiter, 'decline');
      const id = t.issue((id) => ({ type: 'callback', name: 'onHandOver', id, waiter }), false);
      return t.go({ ...p, action: { id, kind: 'hand-over', waiter } });
    }
    case 'calledBack': {
      if (p.kind !== 'held' || p.action?.id !== e.id) return m;
      const { action } = p;
      if (e.error) fx.push({ type: 'report', error: e.error });
      if (action.kind === 'idle') {
        // Away: the page goes to whoever waits, whatever the app's onIdle made of it.
        t.release(p.token, true, false, true);
        return endLease(t, p, 'idle', null);
      }
      if (!e.error) return answer(t, p, action.waiter, 'hand-over');
      t.set({ error: e.error });
      return t.go({ ...p, action: null }); // nothing was sent: still held
    }
    case 'answered': {
      if (p.kind !== 'held' || p.action?.id !== e.id) return m;
      t.heard(e.answer, e.at);
      if (e.answer.status === 'declined')
        return t.go({ ...p, waiters: e.answer.waiters, action: null });
      // onHandOver ran already: no onLost. The lock shown is the waiter's.
      return endLease(t, p, 'handed-over', e.answer.lock);
    }
    case 'idle':
      if (p.kind !== 'held' || p.idleReleaseAt !== null) return m;
      return t.go({ ...p, idleReleaseAt: e.at.wall + (m.offset ?? 0) + e.warning });
    case 'keepEditing': {
      if (p.kind !== 'held') return m;
      const idling = p.action?.kind === 'idle';
      if (p.idleReleaseAt === null && !idling) return m;
      return t.go({ ...p, idleReleaseAt: null, action: idling ? null : p.action });
    }
    case 'idleDue': {
      if (p.kind !== 'held' || p.idleReleaseAt === null || p.action) return m;
      const id = t.issue((id) => ({ type: 'callback', name: 'onIdle', id }), false);
      return t.go({ ...p, action: { id, kind: 'idle' } });
    }
  }
}

/** A failed ask, renew or answer; undefined when the failure is about another request. */
export function lineFailed(
  t: LineStep,
  e: Extract<LockEvent, { type: 'failed' }>,
): LockMachine | undefined {
  const { p } = t;
  const asking = p.kind === 'inLine' && p.request === e.id;
  if (asking && refusedBy(e.error, 'not-locked')) return t.startLeasing(); // free: take it
  if (!asking && !(p.kind === 'held' && p.action?.id === e.id)) return undefined;
  t.fx.push({ type: 'report', error: e.error });
  t.set({ error: e.error });
  if (p.kind === 'held') {
    // Refused (the waiter left, the lease is gone) or no answer: see how things stand.
    const q = { ...p, action: null };
    return q.request === null ? t.send(q) : t.go(q);
  }
  if (p.kind !== 'inLine') return undefined;
  // A renew that got no answer keeps the place (a lease of its own); a refusal ends it.
  const keeps = p.waiter !== null && !refusedBy(e.error);
  return t.go(keeps ? { ...p, request: null } : looking('locked', p.seen, 'announce'));
}

/** Answer a waiter's request (after `onHandOver`, for a hand-over). */
function answer(t: LineStep, q: Of<'held'>, waiter: Waiter, kind: 'hand-over' | 'decline') {
  const { token } = q;
  const id = t.issue(
    (id) => ({ type: 'answer', id, token, waiterId: waiter.id, answer: kind }),
    false,
  );
  return t.go({ ...q, action: { id, kind, waiter } });
}

/** The holder ends its own lease (handed over, idled out): a refresh on its way is moot. */
function endLease(t: LineStep, q: Of<'held'>, reason: 'handed-over' | 'idle', to: Lock | null) {
  if (q.request !== null) t.fx.push({ type: 'cancel' });
  return t.go({ kind: 'lost', reason, seen: to && seenLock(to, false, false) });
}
