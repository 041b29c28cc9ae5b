import {
  blocked,
  deadlineOf,
  forget,
  isLeasing,
  isSelfHolder,
  leftAs,
  looking,
  offsetAt,
  pollOf,
  refreshing,
  seen,
  tokenOf,
} from './lock-phase';
import type { LockEvent, LockMachine, Transition } from './lock-state';
import {
  askNow,
  begin,
  comeBack,
  confirm,
  enterHeld,
  enterLost,
  type Fx,
  giveBack,
  ranOut,
  release,
  send,
  settle,
  startLeasing,
} from './lock-steps';

/**
 * The client's lock life as one pure function: the next state and what to do about it. Polls and
 * the deadline follow the phase (see the end of this function): every new phase re-arms the poll
 * that phase runs, as react-query's `refetchInterval` does after each answer.
 */
export function reduce(machine: LockMachine, event: LockEvent): Transition {
  const effects: Fx = [];
  const state = step(machine, event, effects);
  if (state.phase !== machine.phase) {
    effects.push({ type: 'poll', what: pollOf(state.phase) });
    const deadline = deadlineOf(state.phase);
    if (deadline !== deadlineOf(machine.phase)) effects.push({ type: 'deadline', at: deadline });
  }
  return { state, effects };
}

function step(m: LockMachine, event: LockEvent, fx: Fx): LockMachine {
  const p = m.phase;
  switch (event.type) {
    case 'start':
      if (p.kind !== 'idle') return m;
      if (event.afterPreviousStop) {
        const id = m.nextId;
        fx.push({ type: 'awaitPreviousStop', id });
        m = { ...m, nextId: id + 1, releases: [...m.releases, id] };
      }
      return begin(m, fx);
    case 'stop': {
      if (p.kind === 'stopped') return m;
      const token = tokenOf(p);
      if (refreshing(p)) fx.push({ type: 'cancelRefresh' });
      if (token) m = release(m, fx, token, { announce: true, beacon: false, wait: true });
      return { ...m, phase: { kind: 'stopped' } };
    }
    case 'mode':
      m = { ...m, mode: event.mode };
      return p.kind === 'looking' && p.manual && p.shows === 'free' && event.mode === 'mount'
        ? startLeasing(m, fx)
        : m;
    case 'acquire':
      return p.kind === 'looking' || p.kind === 'lost' ? startLeasing(m, fx) : m;
    case 'release': {
      const asking =
        p.kind === 'acquiring' ||
        p.kind === 'held' ||
        p.kind === 'unreachable' ||
        p.kind === 'takingOver' ||
        (p.kind === 'looking' && p.onFree === 'acquire');
      if (!asking) return m;
      const token = tokenOf(p);
      if (refreshing(p)) fx.push({ type: 'cancelRefresh' });
      m = { ...m, phase: looking('free', null, 'show', { gaveUp: true }) };
      return token ? release(m, fx, token, { announce: true, beacon: false, wait: true }) : m;
    }
    case 'takeOver': {
      if (p.kind !== 'looking' && p.kind !== 'lost') return m;
      if (!p.seen) return startLeasing(m, fx);
      const id = m.nextId;
      fx.push({ type: 'takeOver', id, expectedFence: p.seen.lock.fence });
      const fallback =
        p.kind === 'lost'
          ? { kind: 'lost' as const, reason: p.reason }
          : { kind: 'locked' as const };
      return {
        ...m,
        nextId: id + 1,
        grants: [...m.grants, id],
        phase: { kind: 'takingOver', request: id, seen: p.seen, fallback },
      };
    }
    case 'retry':
      return p.kind === 'lost' ? startLeasing(m, fx) : askNow(m, fx);
    case 'recheck':
      if (isLeasing(p) && p.token && p.request !== null) {
        // The refresh on its way may have been answered before whatever refused the save.
        fx.push({ type: 'cancelRefresh' });
        return send(m, fx, { ...p, request: null });
      }
      return askNow(m, fx);
    case 'pollDue':
    case 'online':
      return askNow(m, fx);
    case 'visible':
      // Timers were throttled while hidden: edit again only once the server confirms.
      if (p.kind === 'held' && p.confirm === null) return confirm(m, fx, p, 'round-trip');
      return askNow(m, fx);
    case 'slept':
      return p.kind === 'held' ? confirm(m, fx, p, 'after-sleep') : m;
    case 'deadline':
      return p.kind === 'held' && event.at.mono >= p.deadline ? ranOut(m, fx, p) : m;
    case 'otherTab':
      if (p.kind === 'looking') return askNow(m, fx);
      if (isLeasing(p) && p.token && event.message === 'taken-over') return askNow(m, fx);
      return m;
    case 'pagehide': {
      if (p.kind === 'idle' || p.kind === 'stopped' || p.kind === 'paused') return m;
      const token = tokenOf(p);
      if (refreshing(p)) fx.push({ type: 'cancelRefresh' });
      if (token) m = release(m, fx, token, { announce: true, beacon: true, wait: false });
      return { ...m, phase: { kind: 'paused', left: leftAs(p) } };
    }
    case 'pageshow':
      return p.kind === 'paused' ? comeBack(m, fx, p.left) : m;
    case 'leased':
      return settle(leased(forget(m, event.id), fx, event), fx);
    case 'looked': {
      if (p.kind !== 'looking' || p.request !== event.id) return m;
      const { answer } = event;
      m = { ...m, ttlMs: answer.ttlMs, offset: offsetAt(m, answer.now, event.at), error: null };
      switch (answer.status) {
        case 'free':
          if (p.onFree === 'acquire') return startLeasing(m, fx);
          if (p.onFree === 'announce') fx.push({ type: 'callback', name: 'onAvailable' });
          return {
            ...m,
            phase: { ...p, shows: 'free', seen: null, onFree: 'show', request: null },
          };
        case 'held': {
          const free = { ...m, phase: { ...p, shows: 'free' as const, seen: null, request: null } };
          // Our own release (or a late grant's give-back) has not landed yet: as good as free.
          if (m.grants.length > 0 || m.releases.length > 0) return free;
          if (!p.gaveUp) return startLeasing(m, fx); // this tab still holds it: reclaim
          // Released, but the release got no answer (or a grant's answer was lost): give it back.
          const id = free.nextId;
          fx.push({ type: 'reclaimAndRelease', id });
          return { ...free, nextId: id + 1, releases: [...free.releases, id] };
        }
        case 'locked':
          return {
            ...m,
            phase: {
              ...p,
              ...blocked(seen(answer.lock, answer.isSelf, answer.canTakeOver)),
              request: null,
            },
          };
      }
      return m;
    }
    case 'tookOver': {
      m = forget(m, event.id);
      const { answer } = event;
      if (p.kind !== 'takingOver' || p.request !== event.id)
        return settle(giveBack(m, fx, answer), fx);
      if (answer.status === 'held') {
        m = enterHeld(m, fx, answer, event.sentAt, event.at, p);
        fx.push({ type: 'broadcast', message: 'taken-over' });
        return m;
      }
      m = { ...m, offset: offsetAt(m, answer.now, event.at), error: null };
      if (!answer.lock) return startLeasing(m, fx);
      const self = isSelfHolder(m, answer.lock);
      return {
        ...m,
        phase: looking(
          'locked',
          seen(answer.lock, self, answer.reason !== 'forbidden'),
          'announce',
        ),
      };
    }
    case 'failed':
      return settle(failed(forget(m, event.id), fx, event), fx);
    case 'released':
      m = { ...m, releases: m.releases.filter((id) => id !== event.id) };
      if (event.error) {
        // The lease lapses on its own after the TTL; a look that still sees it gives it back.
        fx.push({ type: 'reportFailure', error: event.error });
        m = { ...m, error: event.error };
      }
      return settle(m, fx);
  }
}

function leased(
  m: LockMachine,
  fx: Fx,
  event: Extract<LockEvent, { type: 'leased' }>,
): LockMachine {
  const p = m.phase;
  const { answer, at } = event;
  if (!isLeasing(p) || p.request !== event.id) return giveBack(m, fx, answer);
  if (answer.status === 'held' && event.sleptInFlight) {
    // The machine slept while this answer was on its way, and the monotonic clock may have stood
    // still: the lease may have lapsed since. Keep the token and ask again; that round trip confirms.
    const again = { ...p, token: answer.token, request: null };
    return send(m, fx, again.kind === 'held' ? { ...again, confirm: 'after-sleep' } : again);
  }
  switch (answer.status) {
    case 'held':
      if (
        p.kind === 'acquiring' &&
        p.token === null &&
        p.cacheFence !== null &&
        answer.lock.fence > p.cacheFence + 1
      ) {
        // Someone else held the page while this one sat in the back/forward cache: stale content.
        m = giveBack({ ...m, offset: offsetAt(m, answer.now, at) }, fx, answer);
        return enterLost(m, fx, 'edited-meanwhile', null, undefined, false);
      }
      return enterHeld(m, fx, answer, event.sentAt, at, p);
    case 'locked':
      return {
        ...m,
        ttlMs: answer.ttlMs,
        offset: offsetAt(m, answer.now, at),
        error: null,
        phase: looking('locked', seen(answer.lock, answer.isSelf, answer.canTakeOver), 'announce'),
      };
    case 'lost':
      m = { ...m, offset: offsetAt(m, answer.now, at) };
      return enterLost(
        m,
        fx,
        answer.reason,
        answer.lock ?? null,
        answer.isSelf,
        p.kind === 'unreachable',
      );
  }
}

function failed(
  m: LockMachine,
  fx: Fx,
  event: Extract<LockEvent, { type: 'failed' }>,
): LockMachine {
  const p = m.phase;
  if (event.cancelled || !('request' in p) || p.request !== event.id) return m;
  fx.push({ type: 'reportFailure', error: event.error });
  m = { ...m, error: event.error };
  switch (p.kind) {
    case 'acquiring':
      // Not holding and no answer: `error`; look with GET and acquire once it is free.
      if (p.token === null) return { ...m, phase: looking('error', p.seen, 'acquire') };
      return { ...m, phase: { ...p, request: null } };
    case 'held':
      // After a sleep the monotonic deadline cannot be trusted: the lease may well have lapsed.
      if (p.confirm === 'after-sleep') return ranOut(m, fx, { ...p, request: null });
      // Still held until the deadline (or still re-confirming): the deadline decides.
      return { ...m, phase: { ...p, request: null } };
    case 'unreachable':
      return { ...m, phase: { ...p, request: null } };
    case 'looking':
      return { ...m, phase: { ...p, shows: 'error', request: null } };
    case 'takingOver':
      // No answer: nothing changed hands. Show what was shown, with the error, and look again.
      if (p.fallback.kind === 'lost') {
        return { ...m, phase: { kind: 'lost', reason: p.fallback.reason, seen: p.seen } };
      }
      return { ...m, phase: looking('locked', p.seen, 'announce') };
  }
}
