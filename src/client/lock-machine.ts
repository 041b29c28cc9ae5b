import type { LockChangeKind } from '../protocol/live';
import type { HeldResponse, Lock, StatusResponse } from '../protocol/protocol';
import { type LineStep, lineFailed, stepLine } from './lock-line';
import type {
  Clock,
  Leasing,
  LockEffect,
  LockEvent,
  LockMachine,
  Of,
  Phase,
} from './lock-machine-types';
import { leasing, looking, NOBODY, pollOf, seenLock, slept, watches } from './lock-phases';

export type * from './lock-machine-types';
export { initialMachine, NOBODY, SLEEP_GAP, slept } from './lock-phases';

/**
 * The client's lock life as one pure function: the next state and what to do about it. Every new
 * phase re-arms the poll it runs (as react-query's `refetchInterval` does after each answer).
 */
export function reduce(
  before: LockMachine,
  e: LockEvent,
): { state: LockMachine; effects: LockEffect[] } {
  const fx: LockEffect[] = [];
  let m = before;
  const p = m.phase;
  const set = (more: Partial<LockMachine>) => {
    m = { ...m, ...more };
    return m;
  };
  const go = (phase: Phase) => set({ phase });
  const call = (name: 'onAcquired' | 'onLost' | 'onAvailable') =>
    fx.push({ type: 'callback', name });
  /** A request's (or awaited callback's) id; `waits`: an acquire waits for its answer. */
  const issue = (effect: (id: number) => LockEffect, waits: boolean) => {
    const id = m.nextId;
    fx.push(effect(id));
    set({ nextId: id + 1, pending: waits ? [...m.pending, id] : m.pending });
    return id;
  };
  /** Enter `phase` with its request sent; a first acquire is never cancelled (see `cancel`). */
  const send = (phase: Of<'looking' | 'inLine'> | Leasing) => {
    const request = issue(
      (id) =>
        phase.kind === 'looking'
          ? { type: 'look', id }
          : phase.kind === 'inLine'
            ? { type: 'ask', id, renew: true, message: phase.waiter?.message }
            : { type: 'acquire', id, token: phase.token },
      phase.kind === 'acquiring',
    );
    return go({ ...phase, request });
  };
  /** Look, renew or refresh now, unless a request of this phase is on its way (it counts). */
  const askNow = () =>
    (p.kind === 'looking' || p.kind === 'inLine' || (leasing(p) && p.token)) && p.request === null
      ? send(p)
      : m;
  const recheck = () => {
    if (leasing(p) && p.token && p.request !== null) {
      // The refresh on its way may have been answered before whatever refused the save.
      fx.push({ type: 'cancel' });
      return send({ ...p, request: null });
    }
    return askNow();
  };
  const startLeasing = (cacheFence: number | null = null) => {
    const seen = 'seen' in m.phase ? m.phase.seen : null;
    const phase = { kind: 'acquiring', request: null, token: null, cacheFence, seen } as const;
    // An acquire now could reclaim the very token a release (or give-back) is about to kill.
    return m.pending.length > 0 ? go(phase) : send(phase);
  };
  const begin = () =>
    m.mode === 'mount' ? startLeasing() : send(looking('free', null, 'show', { manual: true }));
  const release = (token: string, announce: boolean, beacon = false, idle = false) =>
    issue(
      (id) => ({ type: 'release', id, token, announce, beacon, ...(idle && { reason: 'idle' }) }),
      !beacon,
    );
  /** A grant that arrived after the tab moved on: give it back unless it is still ours. */
  const giveBack = (answer: { status: string; token?: string }) => {
    const ours = leasing(m.phase) ? m.phase.token : null;
    if (answer.status === 'held' && answer.token && answer.token !== ours)
      release(answer.token, false);
    return m;
  };
  const isSelfHolder = (lock: Lock) => m.selfUserId !== null && lock.holder.id === m.selfUserId;
  /** An answer: the server's TTL and clock (within a second is close enough, and spares a render). */
  const heard = (
    answer: { now: number; ttlMs?: number },
    at: Clock,
    error: Error | null = null,
  ) => {
    const offset = answer.now - at.wall;
    const close = m.offset !== null && Math.abs(offset - m.offset) <= 1_000;
    return set({ ttlMs: answer.ttlMs ?? m.ttlMs, offset: close ? m.offset : offset, error });
  };
  /** The lease ran out while the server could not confirm it: stop editing, keep trying. */
  const ranOut = ({ token, lock, request }: Of<'held'>) => {
    call('onLost');
    return go({ kind: 'unreachable', token, lock, request });
  };
  const enterHeld = ({ answer, sent, at }: { answer: HeldResponse; sent: Clock; at: Clock }) => {
    const { token, lock, waiters = NOBODY } = answer;
    const deadline = sent.mono + (lock.expiresAt - answer.now);
    heard(answer, at);
    set({ selfUserId: lock.holder.id });
    if (deadline <= at.mono && (p.kind === 'held' || p.kind === 'unreachable')) {
      // Answered later than the lease it gives would last: it may have lapsed already.
      if (p.kind === 'held') call('onLost');
      return go({ kind: 'unreachable', token, lock, request: null });
    }
    if (p.kind !== 'held') {
      // List views in this browser's other tabs show the new holder at once.
      fx.push({ type: 'broadcast', message: 'acquired' }, { type: 'callback', name: 'onAcquired' });
    }
    // A refresh keeps the idle warning and the holder's action under way.
    const { idleReleaseAt, action } = p.kind === 'held' ? p : { idleReleaseAt: null, action: null };
    const lease = { token, lock, request: null, deadline, confirm: null, waiters } as const;
    return go({ kind: 'held', ...lease, idleReleaseAt, action });
  };
  const line: LineStep = {
    p,
    get m() {
      return m;
    },
    fx,
    ...{ set, go, issue, send, release, heard, enterHeld, giveBack },
    startLeasing: () => startLeasing(),
  };

  if ('id' in e) {
    set({ pending: m.pending.filter((id) => id !== e.id) });
    step();
    // An answer landed: an acquire that waited for it goes now.
    const q = m.phase;
    if (q.kind === 'acquiring' && q.request === null && !q.token && !m.pending.length) send(q);
  } else step();

  const q = m.phase;
  const watching = watches(q);
  if (watching !== watches(p)) fx.push({ type: 'watch', on: watching });
  if (!watching) set({ live: false }); // an unwatched stream tells nothing more
  // The holder's bookkeeping (its line, the idle warning) does not postpone its next refresh.
  const sameLease =
    p.kind === 'held' && q.kind === 'held' && p.request === q.request && p.confirm === q.confirm;
  // The stream coming or going changes how often a look polls.
  if ((q !== p && !sameLease) || (m.live !== before.live && q.kind === 'looking')) {
    fx.push({ type: 'poll', what: pollOf(m.phase) });
    const deadline = m.phase.kind === 'held' ? m.phase.deadline : null;
    if (deadline !== (p.kind === 'held' ? p.deadline : null))
      fx.push({ type: 'deadline', at: deadline });
  }
  return { state: m, effects: fx };

  function step(): LockMachine {
    switch (e.type) {
      case 'start':
        if (p.kind !== 'idle') return m;
        if (e.afterPreviousStop) issue((id) => ({ type: 'afterStop', id }), true);
        return begin();
      case 'stop':
      case 'release':
      case 'pagehide': {
        const leaves =
          e.type === 'stop'
            ? p.kind !== 'stopped'
            : e.type === 'pagehide'
              ? p.kind !== 'idle' && p.kind !== 'stopped' && p.kind !== 'paused'
              : leasing(p) ||
                p.kind === 'takingOver' ||
                (p.kind === 'looking' && p.onFree === 'acquire');
        if (!leaves) return m;
        if (p.kind === 'inLine') fx.push({ type: 'leave', beacon: e.type === 'pagehide' });
        const token = leasing(p) ? p.token : null;
        if (token && 'request' in p && p.request !== null) fx.push({ type: 'cancel' });
        if (token) release(token, true, e.type === 'pagehide');
        if (e.type === 'stop') return go({ kind: 'stopped' });
        if (e.type === 'pagehide') return go({ kind: 'paused', left: p });
        return go(looking('free', null, 'show', { gaveUp: true }));
      }
      case 'mode':
        set({ mode: e.mode });
        return p.kind === 'looking' && p.manual && p.shows === 'free' && e.mode === 'mount'
          ? startLeasing()
          : m;
      case 'acquire':
        return p.kind === 'looking' || p.kind === 'lost' ? startLeasing() : m;
      case 'retry':
        return p.kind === 'lost' ? startLeasing() : askNow();
      case 'takeOver': {
        if (p.kind !== 'looking' && p.kind !== 'lost' && p.kind !== 'inLine') return m;
        if (!p.seen) return startLeasing();
        const { seen } = p;
        const request = issue((id) => ({ type: 'takeOver', id, fence: seen.lock.fence }), true);
        // Refused, a tab in line keeps its place (a takeover that wins leaves the line).
        const fallback =
          p.kind === 'lost'
            ? p
            : p.kind === 'inLine'
              ? { ...p, request: null }
              : looking('locked', seen, 'announce');
        return go({ kind: 'takingOver', request, seen, fallback });
      }
      case 'recheck':
        return recheck();
      case 'live':
        set({ live: e.up });
        // Down: news may have been missed meanwhile, so look once now.
        return e.up ? m : askNow();
      case 'pollDue':
      case 'online':
        return askNow();
      case 'otherTab':
        return p.kind === 'looking' || p.kind === 'inLine' || e.message === 'taken-over'
          ? askNow()
          : m;
      case 'visible':
      case 'slept': {
        // Timers were throttled while hidden, or stood still in a sleep: edit again only once
        // the server confirms.
        const slept = e.type === 'slept';
        if (p.kind !== 'held' || (!slept && p.confirm !== null)) return slept ? m : askNow();
        const next = { ...p, confirm: slept ? 'after-sleep' : 'round-trip' } as const;
        return p.request === null ? send(next) : go(next);
      }
      case 'deadline':
        return p.kind === 'held' && e.at.mono >= p.deadline ? ranOut(p) : m;
      case 'pageshow': {
        if (p.kind !== 'paused') return m;
        const { left } = p;
        if (left.kind === 'held' || left.kind === 'unreachable')
          return startLeasing(left.lock.fence);
        if (left.kind === 'lost') return go(left); // still stale, still nothing to poll
        const blocked =
          left.kind === 'inLine' || (left.kind === 'looking' && left.onFree === 'announce');
        if (blocked && left.seen) {
          // A blocked tab looks, never acquires: when the page is free it reloads (`onAvailable`).
          // One that was in line left it on the way out (its place was a lease nobody renewed).
          const { lock, canTakeOver } = left.seen;
          return send(
            looking('locked', seenLock(lock, isSelfHolder(lock), canTakeOver), 'announce'),
          );
        }
        return begin();
      }
      case 'leased': {
        const { answer, at } = e;
        if (!leasing(p) || p.request !== e.id) return giveBack(answer);
        if (answer.status === 'held' && slept(e.sent, at)) {
          // The monotonic clock may have stood still in a sleep while this was on its way: the
          // lease may have lapsed. Keep the token and ask again; that round trip confirms.
          const again = { ...p, token: answer.token, request: null };
          return send(again.kind === 'held' ? { ...again, confirm: 'after-sleep' } : again);
        }
        if (answer.status === 'locked') {
          heard(answer, at);
          const { lock, isSelf, canTakeOver, waiting } = answer;
          return go(looking('locked', seenLock(lock, isSelf, canTakeOver, waiting), 'announce'));
        }
        heard(answer, at, m.error);
        if (answer.status === 'lost') {
          if (p.kind !== 'unreachable') call('onLost');
          const { lock = null, reason } = answer;
          const self = lock !== null && (answer.isSelf ?? isSelfHolder(lock));
          return go({ kind: 'lost', reason, seen: lock && seenLock(lock, self, self) });
        }
        const { cacheFence } = p.kind === 'acquiring' && !p.token ? p : { cacheFence: null };
        if (cacheFence === null || answer.lock.fence <= cacheFence + 1) {
          return enterHeld({ ...e, answer });
        }
        // Someone else held the page while this one sat in the back/forward cache: stale content.
        giveBack(answer);
        call('onLost');
        return go({ kind: 'lost', reason: 'edited-meanwhile', seen: null });
      }
      case 'status': {
        const { answer } = e;
        if (e.id === 'push' && p.kind !== 'looking') return pushed(answer, e.change);
        if (p.kind !== 'looking' || (e.id !== 'push' && p.request !== e.id)) return m;
        // A stream cannot tell this tab's lease from this user's other tabs': a GET can.
        if (e.id === 'push' && answer.status === 'locked' && answer.isSelf) return askNow();
        heard(answer, e.at);
        if (answer.status === 'locked') {
          const { lock, isSelf, canTakeOver, waiting } = answer;
          const shown = seenLock(lock, isSelf, canTakeOver, waiting);
          return go(looking('locked', shown, 'announce', { gaveUp: p.gaveUp }));
        }
        if (answer.status === 'free') {
          if (p.onFree === 'acquire') return startLeasing();
          if (p.onFree === 'announce') call('onAvailable');
          return go({ ...p, shows: 'free', seen: null, onFree: 'show', request: null });
        }
        // Held by this tab. Our own release (or a late grant's give-back) has not landed yet: as
        // good as free. Else reclaim it, or after `release()` (whose answer got lost) give it back.
        if (!m.pending.length && !p.gaveUp) return startLeasing();
        go({ ...p, shows: 'free', seen: null, request: null });
        if (!m.pending.length) issue((id) => ({ type: 'reclaim', id }), true);
        return m;
      }
      case 'tookOver': {
        const { answer } = e;
        if (p.kind !== 'takingOver' || p.request !== e.id) return giveBack(answer);
        if (answer.status === 'held') {
          enterHeld({ ...e, answer });
          fx.push({ type: 'broadcast', message: 'taken-over' });
          return m;
        }
        heard(answer, e.at);
        if (!answer.lock) return startLeasing();
        const self = isSelfHolder(answer.lock);
        const shown = seenLock(answer.lock, self, answer.reason !== 'forbidden');
        return go(looking('locked', shown, 'announce'));
      }
      case 'failed': {
        if (e.cancelled) return m;
        const inLine = lineFailed(line, e);
        if (inLine) return inLine;
        if (!('request' in p) || p.request !== e.id) return m;
        fx.push({ type: 'report', error: e.error });
        set({ error: e.error });
        if (p.kind === 'looking') return go({ ...p, shows: 'error', request: null });
        if (p.kind === 'takingOver') return go(p.fallback); // nothing changed hands
        // Not holding and no answer: `error`; look with GET and acquire once it is free.
        if (p.kind === 'acquiring' && !p.token) return go(looking('error', p.seen, 'acquire'));
        // After a sleep the deadline cannot be trusted; otherwise the deadline decides.
        if (p.kind === 'held' && p.confirm === 'after-sleep')
          return ranOut({ ...p, request: null });
        return go({ ...p, request: null });
      }
      case 'ask':
      case 'leaveQueue':
      case 'asked':
      case 'handOver':
      case 'decline':
      case 'calledBack':
      case 'answered':
      case 'idle':
      case 'keepEditing':
      case 'idleDue':
        return stepLine(line, e);
      case 'released':
        if (e.error) {
          // The lease lapses on its own after the TTL; a look that still sees it gives it back.
          fx.push({ type: 'report', error: e.error });
          set({ error: e.error });
        }
        return m;
    }
  }

  /** News from the stream for a tab that is not looking. */
  function pushed(answer: StatusResponse, change?: LockChangeKind): LockMachine {
    const other = answer.status === 'free' ? null : answer;
    // Lost: shows who holds it now, which no poll would tell.
    if (p.kind === 'lost')
      return go({ ...p, seen: other && seenLock(other.lock, other.isSelf, other.canTakeOver) });
    // In line: any change may move the line (or hand this tab the page), so ask at once.
    if (p.kind === 'inLine') return askNow();
    if (p.kind !== 'held' && p.kind !== 'unreachable') return m; // an answer is on its way
    const ours = other?.isSelf && other.lock.fence === p.lock.fence;
    // Someone joined or left the line: the refresh shows who (a push names nobody).
    const line =
      p.kind === 'held' &&
      (change === 'asked' ||
        change === 'left' ||
        (other?.status === 'locked' ? (other.waiting ?? 0) : 0) !== p.waiters.length);
    // Not trusted alone: a refresh now tells whether (and to whom) the lease was lost.
    return ours && p.kind === 'held' && !line ? m : recheck();
  }
}
