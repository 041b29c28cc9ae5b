import { describe, expect, it } from 'vitest';
import {
  initialMachine,
  type LockEffect,
  type LockEvent,
  type LockMachine,
  NOBODY,
  type Phase,
  reduce,
  type Seen,
} from '../../src/client/lock-machine';
import { snapshotOf } from '../../src/client/lock-snapshot';
import { LockAdapterError } from '../../src/core/adapter';
import type {
  AcquireResponse,
  HeldResponse,
  Lock,
  LockUser,
  QueuedResponse,
  StatusResponse,
  Waiter,
} from '../../src/protocol/protocol';

// Every transition of the client's lock, synchronously: no timers, no DOM, no network. One line
// per case: the state and the event, then the state (phase, and what it shows) and the effects.

const alice: LockUser = { id: 'alice', name: 'Alice' };
const bob: LockUser = { id: 'bob', name: 'Bob' };
const carol: LockUser = { id: 'carol', name: 'Carol' };
const lock = (fence = 1, holder = alice): Lock => ({
  resourceId: 'page:1',
  holder,
  since: 0,
  acquiredAt: 0,
  expiresAt: 30_000,
  fence,
});
const bobs: Seen = { lock: lock(1, bob), isSelf: false, canTakeOver: false };
const at = (mono = 0) => ({ mono, wall: 0 });

type P<K extends Phase['kind']> = Extract<Phase, { kind: K }>;

const acquiring: P<'acquiring'> = {
  kind: 'acquiring',
  request: 1,
  token: null,
  cacheFence: null,
  seen: null,
};
const waiting: P<'acquiring'> = { ...acquiring, request: null };
const held: P<'held'> = {
  kind: 'held',
  token: 't1',
  lock: lock(),
  request: null,
  deadline: 30_000,
  confirm: null,
  waiters: NOBODY,
  idleReleaseAt: null,
  action: null,
};
const refreshing: P<'held'> = { ...held, request: 1 };
const confirming: P<'held'> = { ...held, request: 1, confirm: 'round-trip' };
const afterSleep: P<'held'> = { ...held, request: 1, confirm: 'after-sleep' };
const unreachable: P<'unreachable'> = {
  kind: 'unreachable',
  token: 't1',
  lock: lock(),
  request: 1,
};
const look = (
  shows: 'free' | 'locked' | 'error',
  onFree: 'acquire' | 'announce' | 'show',
  more = {},
): P<'looking'> => ({
  kind: 'looking',
  shows,
  seen: shows === 'locked' ? bobs : null,
  onFree,
  manual: false,
  gaveUp: false,
  request: 1,
  ...more,
});
const blocked = look('locked', 'announce');
const manual = look('free', 'show', { manual: true, request: null });
const released = look('free', 'show', { gaveUp: true });
const failing = look('error', 'acquire');
const takingOver: P<'takingOver'> = {
  kind: 'takingOver',
  request: 1,
  seen: bobs,
  fallback: {
    kind: 'looking',
    shows: 'locked',
    seen: bobs,
    onFree: 'announce',
    manual: false,
    gaveUp: false,
    request: null,
  },
};
const lost: P<'lost'> = { kind: 'lost', reason: 'taken-over', seen: bobs };
const paused = (left: Phase): Phase => ({ kind: 'paused', left });

const machine = (phase: Phase, more: Partial<LockMachine> = {}): LockMachine => ({
  ...initialMachine('mount', 'alice'),
  nextId: 5,
  pending: phase.kind === 'acquiring' && phase.request !== null && phase.token === null ? [1] : [],
  ...more,
  phase,
});

const grant = (token = 't1', fence = 1): HeldResponse => ({
  status: 'held',
  lock: lock(fence),
  token,
  ttlMs: 30_000,
  now: 0,
});
const refused: AcquireResponse = {
  status: 'locked',
  lock: lock(1, bob),
  isSelf: false,
  canTakeOver: false,
  ttlMs: 30_000,
  now: 0,
};
const ended = (reason: 'taken-over' | 'expired'): AcquireResponse => ({
  status: 'lost',
  reason,
  lock: lock(2, alice),
  isSelf: true,
  now: 0,
});
const leased = (answer: AcquireResponse, id = 1, mono = 0, sleptInFlight = false): LockEvent => ({
  type: 'leased',
  id,
  answer,
  sent: at(),
  // A wall clock that ran ahead of the monotonic one on the way: the machine slept.
  at: { mono, wall: sleptInFlight ? 60_000 : 0 },
});
const looked = (answer: StatusResponse, id: number | 'push' = 1): LockEvent => ({
  type: 'status',
  id,
  answer,
  sent: at(),
  at: at(),
});
const free: StatusResponse = { status: 'free', ttlMs: 30_000, now: 0 };
const seenLocked: StatusResponse = {
  status: 'locked',
  lock: lock(1, bob),
  isSelf: false,
  canTakeOver: true,
  ttlMs: 30_000,
  now: 0,
};
const seenHeld: StatusResponse = {
  status: 'held',
  lock: lock(),
  isSelf: true,
  canTakeOver: true,
  ttlMs: 30_000,
  now: 0,
};
// What the live stream pushes: a GET's view without a client id (this tab's lease is `locked`).
const lockedBy = (holder: LockUser, fence = 1): StatusResponse => ({
  status: 'locked',
  lock: lock(fence, holder),
  isSelf: holder === alice,
  canTakeOver: holder === alice,
  ttlMs: 30_000,
  now: 0,
});
const live = (up: boolean): LockEvent => ({ type: 'live', up });
const failed = (id = 1): LockEvent => ({
  type: 'failed',
  id,
  error: new Error('offline'),
  cancelled: false,
});
const ev = (type: string): LockEvent => ({ type }) as LockEvent;

// The line: Alice (this tab) waits behind Bob's lock, or holds it while Bob and Carol wait.
const waiter = (id: string, user: LockUser, request: Waiter['request'] = 'pending'): Waiter => ({
  id,
  user,
  askedAt: 0,
  request,
  requestExpiresAt: 120_000,
});
const alicesPlace = waiter('w-alice', alice);
const bobWaits = waiter('w-bob', bob);
const carolDeclined = waiter('w-carol', carol, 'declined');
const sending: P<'inLine'> = { kind: 'inLine', seen: bobs, request: 1, place: null, waiter: null };
const inLine: P<'inLine'> = { ...sending, request: null, place: 2, waiter: alicesPlace };
const renewing: P<'inLine'> = { ...inLine, request: 1 };
const asking = (phase: Phase, more: Partial<LockMachine> = {}) =>
  machine(phase, { canQueue: true, ...more });
const queued = (place = 2, request: Waiter['request'] = 'pending'): QueuedResponse => ({
  status: 'queued',
  lock: lock(1, bob),
  place,
  waiter: { ...alicesPlace, request },
  ttlMs: 30_000,
  now: 0,
});
const asked = (answer: QueuedResponse | HeldResponse, id = 1): LockEvent => ({
  type: 'asked',
  id,
  answer,
  sent: at(),
  at: at(),
});
const refusal = (code: 'not-locked' | 'queue-full' | 'not-queued', id = 1): LockEvent => ({
  type: 'failed',
  id,
  error: new LockAdapterError('http', `[page-lock] [test] ${code}`, { status: 409, code }),
  cancelled: false,
});
const withLine: P<'held'> = { ...held, waiters: [carolDeclined, bobWaits] };
const acting = (action: P<'held'>['action'], more: Partial<P<'held'>> = {}): P<'held'> => ({
  ...withLine,
  action,
  ...more,
});
const handingOver = acting({ id: 1, kind: 'hand-over', waiter: carolDeclined });
const declining = acting({ id: 1, kind: 'decline', waiter: bobWaits });
const warned: P<'held'> = { ...held, idleReleaseAt: 60_000 };
const idling = acting({ id: 1, kind: 'idle' }, { waiters: [], idleReleaseAt: 60_000 });
const answered = (answer: LockEvent & { type: 'answered' }): LockEvent => answer;
const handedOver = answered({
  type: 'answered',
  id: 1,
  answer: { status: 'handed-over', lock: lock(2, carol), now: 0 },
  sent: at(),
  at: at(),
});
const calledBack = (error?: Error): LockEvent => ({ type: 'calledBack', id: 1, error });
const pushedChange = (answer: StatusResponse, change: 'asked' | 'left' | 'acquired'): LockEvent =>
  ({ ...looked(answer, 'push'), change }) as LockEvent;
const waitingOn = (waiting: number): StatusResponse => ({
  status: 'locked',
  lock: lock(),
  isSelf: true,
  canTakeOver: true,
  waiting,
  ttlMs: 30_000,
  now: 0,
});

/** The phase in a word or two: kind, and what sets it apart. */
function describePhase(m: LockMachine): string {
  return describeKind(m) + (m.live ? ' live' : '');
}

function describeKind(m: LockMachine): string {
  const p = m.phase;
  const status = snapshotOf(m, 'page:1').status;
  switch (p.kind) {
    case 'looking':
      return `looking ${p.shows}/${p.onFree}${p.gaveUp ? ' gaveUp' : ''}${p.manual ? ' manual' : ''} → ${status}`;
    case 'held': {
      const idle = p.idleReleaseAt === null ? '' : ' warned';
      const action = p.action ? ` ${p.action.kind}` : '';
      return `held${p.confirm ? ` ${p.confirm}` : ''}${idle}${action} → ${status}`;
    }
    case 'inLine': {
      const { place, askState } = snapshotOf(m, 'page:1');
      return `in line ${place ?? '-'} ${askState} → ${status}`;
    }
    case 'lost':
      return `lost ${p.reason}`;
    case 'acquiring':
      return `acquiring${p.request === null ? ' (waiting)' : ''}${p.token ? ' confirming' : ''}`;
    case 'paused':
      return `paused as ${p.left.kind}`;
    default:
      return p.kind;
  }
}

function describeEffect(e: LockEffect): string {
  switch (e.type) {
    case 'acquire':
      return e.token ? `refresh ${e.token}` : 'acquire';
    case 'takeOver':
      return `takeOver fence ${e.fence}`;
    case 'release':
      return `release ${e.token}${e.beacon ? ' by beacon' : ''}${e.announce ? '' : ' quietly'}${e.reason ? ` (${e.reason})` : ''}`;
    case 'ask':
      return `ask${e.renew ? ' renew' : ''}${e.message ? ` "${e.message}"` : ''}`;
    case 'leave':
      return `leave${e.beacon ? ' by beacon' : ''}`;
    case 'answer':
      return `answer ${e.answer} ${e.waiterId}`;
    case 'poll':
      return `poll ${e.what ?? 'off'}`;
    case 'deadline':
      return `deadline ${e.at ?? 'off'}`;
    case 'broadcast':
      return `broadcast ${e.message}`;
    case 'callback':
      return e.name === 'onHandOver' ? `onHandOver ${e.waiter.id}` : e.name;
    case 'watch':
      return `watch ${e.on ? 'on' : 'off'}`;
    default:
      return e.type;
  }
}

// biome-ignore format: one line per case
const table: Array<[string, LockMachine, LockEvent, string, string[]]> = [
  ['idle, mount mode: start acquires', machine({ kind: 'idle' }), { type: 'start', afterPreviousStop: false }, 'acquiring', ['acquire', 'watch on', 'poll off']],
  ['idle, manual mode: start looks', machine({ kind: 'idle' }, { mode: 'manual' }), { type: 'start', afterPreviousStop: false }, 'looking free/show manual → free', ['look', 'watch on', 'poll look']],
  ['idle: start after a stop still under way waits for it', machine({ kind: 'idle' }), { type: 'start', afterPreviousStop: true }, 'acquiring (waiting)', ['afterStop', 'watch on', 'poll off']],
  ['waiting: the previous stop landed, so acquire', machine(waiting, { pending: [4] }), { type: 'released', id: 4 }, 'acquiring', ['acquire', 'poll off']],
  ['acquiring: granted', machine(acquiring), leased(grant()), 'held → held', ['broadcast acquired', 'onAcquired', 'poll lease', 'deadline 30000']],
  ['acquiring: someone else holds it', machine(acquiring), leased(refused), 'looking locked/announce → locked', ['poll look']],
  ['acquiring: no answer', machine(acquiring), failed(), 'looking error/acquire → error', ['report', 'poll look']],
  ['acquiring: a grant that slept on its way is confirmed', machine(acquiring), leased(grant(), 1, 0, true), 'acquiring confirming', ['refresh t1', 'poll lease']],
  ['acquiring: a grant beyond fence + 1 after the cache is stale', machine({ ...acquiring, cacheFence: 1 }), leased(grant('t2', 3)), 'lost edited-meanwhile', ['release t2 quietly', 'onLost', 'poll off']],
  ['acquiring: release leaves the first acquire running (given back later)', machine(acquiring), ev('release'), 'looking free/show gaveUp → free', ['poll look']],
  ['acquiring: acquire again does nothing', machine(acquiring), ev('acquire'), 'acquiring', []],
  ['held: poll due refreshes', machine(held), ev('pollDue'), 'held → held', ['refresh t1', 'poll lease']],
  ['held: refreshed', machine(refreshing), leased(grant(), 1, 1_000), 'held → held', ['poll lease']],
  ['held: poll due while a refresh is on its way asks nothing', machine(refreshing), ev('pollDue'), 'held → held', []],
  ['held: refresh answered 409', machine(refreshing), leased(ended('taken-over')), 'lost taken-over', ['onLost', 'poll off', 'deadline off']],
  ['held: refresh got no answer, still held until the deadline', machine(refreshing), failed(), 'held → held', ['report', 'poll lease']],
  ['held: answered after the lease it gives would last', machine(refreshing), leased(grant(), 1, 40_000), 'unreachable', ['onLost', 'poll lease', 'deadline off']],
  ['held: deadline passed', machine(held), { type: 'deadline', at: at(30_000) }, 'unreachable', ['onLost', 'poll lease', 'deadline off']],
  ['held: deadline timer early does nothing', machine(held), { type: 'deadline', at: at(29_999) }, 'held → held', []],
  ['held: visible again re-confirms', machine(held), ev('visible'), 'held round-trip → acquiring', ['refresh t1', 'poll lease']],
  ['held: slept re-confirms', machine(held), ev('slept'), 'held after-sleep → acquiring', ['refresh t1', 'poll lease']],
  ['held: re-confirmed', machine(confirming), leased(grant()), 'held → held', ['poll lease']],
  ['held: a re-confirm after a sleep got no answer', machine(afterSleep), failed(), 'unreachable', ['report', 'onLost', 'poll lease', 'deadline off']],
  ['held: a refresh that slept on its way is asked again', machine(refreshing), leased(grant(), 1, 0, true), 'held after-sleep → acquiring', ['refresh t1', 'poll lease']],
  ['held: recheck cancels the refresh on its way and sends another', machine(refreshing), ev('recheck'), 'held → held', ['cancel', 'refresh t1', 'poll lease']],
  ['held: another tab took over, refresh now', machine(held), { type: 'otherTab', message: 'taken-over' }, 'held → held', ['refresh t1', 'poll lease']],
  ['held: another tab acquired something, nothing to do', machine(held), { type: 'otherTab', message: 'acquired' }, 'held → held', []],
  ['held: release cancels the refresh and gives the lock back', machine(refreshing), ev('release'), 'looking free/show gaveUp → free', ['cancel', 'release t1', 'poll look', 'deadline off']],
  ['held: pagehide gives it back by beacon', machine(held), ev('pagehide'), 'paused as held', ['release t1 by beacon', 'watch off', 'poll off', 'deadline off']],
  ['held: stop gives it back', machine(held), ev('stop'), 'stopped', ['release t1', 'watch off', 'poll off', 'deadline off']],
  ['held: a late answer of another request changes nothing', machine(held), leased(grant(), 9), 'held → held', []],
  ['unreachable: resumed', machine(unreachable), leased(grant()), 'held → held', ['broadcast acquired', 'onAcquired', 'poll lease', 'deadline 30000']],
  ['unreachable: answered 409, no second onLost', machine(unreachable), leased(ended('expired')), 'lost expired', ['poll off']],
  ['unreachable: still no answer', machine(unreachable), failed(), 'unreachable', ['report', 'poll lease']],
  ['blocked: free, so tell the app', machine(blocked), looked(free), 'looking free/show → free', ['onAvailable', 'poll look']],
  ['blocked: a pushed status acts at once, whatever look is on its way', machine(blocked), looked(free, 'push'), 'looking free/show → free', ['onAvailable', 'poll look']],
  ['blocked: still locked', machine(blocked), looked(seenLocked), 'looking locked/announce → locked', ['poll look']],
  ['blocked: another tab released, look now', machine({ ...blocked, request: null }), { type: 'otherTab', message: 'released' }, 'looking locked/announce → locked', ['look', 'poll look']],
  ['blocked: look got no answer', machine(blocked), failed(), 'looking error/announce → error', ['report', 'poll look']],
  ['blocked: take over', machine({ ...blocked, request: null }), ev('takeOver'), 'takingOver', ['takeOver fence 1', 'poll off']],
  ['blocked: acquire', machine({ ...blocked, request: null }), ev('acquire'), 'acquiring', ['acquire', 'poll off']],
  ['blocked: pagehide remembers it was blocked', machine(blocked), ev('pagehide'), 'paused as looking', ['watch off', 'poll off']],
  ['error: free, so acquire', machine(failing), looked(free), 'acquiring', ['acquire', 'poll off']],
  ['error: release stops waiting to acquire', machine(failing), ev('release'), 'looking free/show gaveUp → free', ['poll look']],
  ['manual: a mount user joins', machine(manual, { mode: 'manual' }), { type: 'mode', mode: 'mount' }, 'acquiring', ['acquire', 'poll off']],
  ['manual: this tab holds it (a reload), reclaim', machine({ ...manual, request: 1 }, { mode: 'manual' }), looked(seenHeld), 'acquiring', ['acquire', 'poll off']],
  ['released: a look still sees our lease, give it back', machine(released), looked(seenHeld), 'looking free/show gaveUp → free', ['reclaim', 'poll look']],
  ['released: our release is still on its way, as good as free', machine(released, { pending: [3] }), looked(seenHeld), 'looking free/show gaveUp → free', ['poll look']],
  ['released: acquire waits for the release to land', machine({ ...released, request: null }, { pending: [3] }), ev('acquire'), 'acquiring (waiting)', ['poll off']],
  ['released: the release failed', machine({ ...released, request: null }, { pending: [3] }), { type: 'released', id: 3, error: new Error('offline') }, 'looking free/show gaveUp → free', ['report']],
  ['takingOver: granted', machine(takingOver, { pending: [1] }), { type: 'tookOver', id: 1, answer: grant('t9', 2), sent: at(), at: at() }, 'held → held', ['broadcast acquired', 'onAcquired', 'broadcast taken-over', 'poll lease', 'deadline 30000']],
  ['takingOver: refused, the fence moved on', machine(takingOver, { pending: [1] }), { type: 'tookOver', id: 1, answer: { status: 'refused', reason: 'fence-mismatch', lock: lock(2, bob), now: 0 }, sent: at(), at: at() }, 'looking locked/announce → locked', ['poll look']],
  ['takingOver: refused and free now, acquire', machine(takingOver, { pending: [1] }), { type: 'tookOver', id: 1, answer: { status: 'refused', reason: 'fence-mismatch', now: 0 }, sent: at(), at: at() }, 'acquiring', ['acquire', 'poll off']],
  ['takingOver: no answer, blocked again', machine(takingOver, { pending: [1] }), failed(), 'looking locked/announce → locked', ['report', 'poll look']],
  ['takingOver: no answer after lost, lost again', machine({ ...takingOver, fallback: { kind: 'lost', reason: 'expired', seen: bobs } }, { pending: [1] }), failed(), 'lost expired', ['report', 'poll off']],
  ['stopped: a late grant is given back', machine({ kind: 'stopped' }, { pending: [1] }), leased(grant('t7')), 'stopped', ['release t7 quietly']],
  ['lost: retry acquires', machine(lost), ev('retry'), 'acquiring', ['acquire', 'poll off']],
  ['lost: recheck has nothing to ask', machine(lost), ev('recheck'), 'lost taken-over', []],
  ['lost: edit here instead', machine(lost), ev('takeOver'), 'takingOver', ['takeOver fence 1', 'poll off']],
  ['paused holder: pageshow re-acquires with the fence it held', machine(paused(held)), ev('pageshow'), 'acquiring', ['acquire', 'watch on', 'poll off']],
  ['paused blocked: pageshow looks', machine(paused(blocked)), ev('pageshow'), 'looking locked/announce → locked', ['look', 'watch on', 'poll look']],
  ['paused lost: pageshow is still lost', machine(paused({ kind: 'lost', reason: 'expired', seen: null })), ev('pageshow'), 'lost expired', ['watch on', 'poll off']],
  ['blocked: the stream came up, poll only as a safety net', machine(blocked), live(true), 'looking locked/announce → locked live', ['poll look']],
  ['blocked, live: the stream went down, look now and poll as before', machine({ ...blocked, request: null }, { live: true }), live(false), 'looking locked/announce → locked', ['look', 'poll look']],
  ['blocked, live: down while a look is on its way (it counts), poll as before', machine(blocked, { live: true }), live(false), 'looking locked/announce → locked', ['poll look']],
  ['blocked, live: pushed another holder shows who', machine(blocked, { live: true }), looked(lockedBy(carol), 'push'), 'looking locked/announce → locked live', ['poll look']],
  ['blocked: pushed lock of this user may be this very tab\'s, look', machine({ ...blocked, request: null }), looked(lockedBy(alice), 'push'), 'looking locked/announce → locked', ['look', 'poll look']],
  ['blocked, live: pagehide stops watching', machine(blocked, { live: true }), ev('pagehide'), 'paused as looking', ['watch off', 'poll off']],
  ['error: pushed free acquires at once', machine(failing), looked(free, 'push'), 'acquiring', ['acquire', 'poll off']],
  ['manual: pushed free stays free', machine(manual, { mode: 'manual' }), looked(free, 'push'), 'looking free/show manual → free', ['poll look']],
  ['held: the stream came up, the refresh interval stays', machine(held), live(true), 'held → held live', []],
  ['held: pushed own lock is ignored', machine(held, { live: true }), looked(lockedBy(alice), 'push'), 'held → held live', []],
  ['held: pushed free is not trusted alone, refresh now', machine(held), looked(free, 'push'), 'held → held', ['refresh t1', 'poll lease']],
  ['held: pushed another holder cancels the refresh on its way and refreshes', machine(refreshing), looked(lockedBy(carol, 2), 'push'), 'held → held', ['cancel', 'refresh t1', 'poll lease']],
  ['held: pushed own lock with another fence (this user\'s other tab took over), refresh', machine(held), looked(lockedBy(alice, 2), 'push'), 'held → held', ['refresh t1', 'poll lease']],
  ['unreachable: pushed news, try again at once', machine({ ...unreachable, request: null }), looked(lockedBy(alice), 'push'), 'unreachable', ['refresh t1', 'poll lease']],
  ['acquiring: pushed news waits for the answer', machine(acquiring), looked(free, 'push'), 'acquiring', []],
  ['takingOver: pushed news waits for the answer', machine(takingOver, { pending: [1] }), looked(free, 'push'), 'takingOver', []],
  ['lost: pushed news shows who holds it now', machine(lost), looked(lockedBy(carol, 3), 'push'), 'lost taken-over', ['poll off']],
  ['stopped: the stream is not heard', machine({ kind: 'stopped' }), live(true), 'stopped', []],
  ['paused: pagehide again does nothing', machine(paused({ kind: 'idle' })), ev('pagehide'), 'paused as idle', []],
  // Asking to edit, and waiting in line.
  ['blocked: ask sends it and waits in line, shown locked', asking(blocked), { type: 'ask', message: ' May I? ' }, 'in line - sending → locked', ['ask "May I?"', 'poll ask']],
  ['blocked: ask without an adapter that asks does nothing', machine(blocked), { type: 'ask' }, 'looking locked/announce → locked', []],
  ['blocked by this user\'s other tab: ask does nothing (edit here instead)', asking(look('locked', 'announce', { seen: { ...bobs, isSelf: true } })), { type: 'ask' }, 'looking locked/announce → locked', []],
  ['in line: queued, with a place and the request\'s state', asking(sending), asked(queued(2)), 'in line 2 pending → locked', ['poll ask']],
  ['in line: poll due renews the place', asking(inLine), ev('pollDue'), 'in line 2 pending → locked', ['ask renew', 'poll ask']],
  ['in line: poll due while an ask is on its way asks nothing', asking(renewing), ev('pollDue'), 'in line 2 pending → locked', []],
  ['in line: declined, keeps its place', asking(renewing), asked(queued(1, 'declined')), 'in line 1 declined → locked', ['poll ask']],
  ['in line: ask again keeps the place while it is sent', asking(inLine), { type: 'ask', message: 'Please' }, 'in line 2 sending → locked', ['ask "Please"', 'poll ask']],
  ['in line: answered held (handed over, or the page passed on) is a grant', asking(renewing), asked(grant('t4', 2)), 'held → held', ['broadcast acquired', 'onAcquired', 'poll lease', 'deadline 30000']],
  ['in line: 409 not-locked (nobody holds it), so acquire', asking(sending), refusal('not-locked'), 'acquiring', ['acquire', 'poll off']],
  ['in line: queue-full, blocked again with the error', asking(sending), refusal('queue-full'), 'looking locked/announce → locked', ['report', 'poll look']],
  ['in line: a renew that got no answer keeps the place', asking(renewing), failed(), 'in line 2 pending → locked', ['report', 'poll ask']],
  ['in line: a late ask answer changes nothing', asking(renewing), asked(queued(1), 9), 'in line 2 pending → locked', []],
  ['in line: a late grant is given back', asking(renewing), asked(grant('t8'), 9), 'in line 2 pending → locked', ['release t8 quietly']],
  ['in line: a live push asks again at once', asking(inLine), looked(lockedBy(bob), 'push'), 'in line 2 pending → locked', ['ask renew', 'poll ask']],
  ['in line: a live push while an ask is on its way waits for it', asking(renewing), looked(free, 'push'), 'in line 2 pending → locked', []],
  ['in line: another tab released, ask again now', asking(inLine), { type: 'otherTab', message: 'released' }, 'in line 2 pending → locked', ['ask renew', 'poll ask']],
  ['in line: leave the line, blocked again', asking(inLine), ev('leaveQueue'), 'looking locked/announce → locked', ['leave', 'look', 'poll look']],
  ['in line: pagehide leaves the line by beacon', asking(inLine), ev('pagehide'), 'paused as inLine', ['leave by beacon', 'watch off', 'poll off']],
  ['in line: stop leaves the line', asking(inLine), ev('stop'), 'stopped', ['leave', 'watch off', 'poll off']],
  ['in line: take over', asking(inLine), ev('takeOver'), 'takingOver', ['takeOver fence 1', 'poll off']],
  ['takingOver from the line: no answer, back in line', asking({ ...takingOver, fallback: inLine }, { pending: [1] }), failed(), 'in line 2 pending → locked', ['report', 'poll ask']],
  ['paused in line: pageshow looks (it left the line)', asking(paused(inLine)), ev('pageshow'), 'looking locked/announce → locked', ['look', 'watch on', 'poll look']],
  // The holder's side: requests, hand-over, decline.
  ['held: hand over runs onHandOver first (the first in line by default)', machine(withLine), { type: 'handOver' }, 'held hand-over → held', ['onHandOver w-carol']],
  ['held: hand over with nobody in line does nothing', machine(held), { type: 'handOver' }, 'held → held', []],
  ['held: hand over while an answer is on its way does nothing', machine(declining), { type: 'handOver' }, 'held decline → held', []],
  ['held: onHandOver settled, so answer hand-over', machine(handingOver), calledBack(), 'held hand-over → held', ['answer hand-over w-carol']],
  ['held: onHandOver threw, nothing is sent and the tab still holds it', machine(handingOver), calledBack(new Error('draft not saved')), 'held → held', ['report']],
  ['held: handed over, lost without onLost', machine(acting({ id: 1, kind: 'hand-over', waiter: carolDeclined })), handedOver, 'lost handed-over', ['poll off', 'deadline off']],
  ['held: handed over while a refresh is on its way cancels it', machine(acting({ id: 1, kind: 'hand-over', waiter: carolDeclined }, { request: 2 })), handedOver, 'lost handed-over', ['cancel', 'poll off', 'deadline off']],
  ['held: a late hand-over callback changes nothing', machine(withLine), calledBack(), 'held → held', []],
  ['held: decline answers the first pending request', machine(withLine), { type: 'decline' }, 'held decline → held', ['answer decline w-bob']],
  ['held: decline a named waiter', machine(withLine), { type: 'decline', waiterId: 'w-carol' }, 'held decline → held', ['answer decline w-carol']],
  ['held: declined', machine(declining), answered({ type: 'answered', id: 1, answer: { status: 'declined', waiters: [carolDeclined, { ...bobWaits, request: 'declined' }], now: 0 }, sent: at(), at: at() }), 'held → held', []],
  ['held: the answer was refused (the waiter left), refresh to see', machine(declining), refusal('not-queued'), 'held → held', ['report', 'refresh t1', 'poll lease']],
  ['held: pushed own lock, someone asked: refresh at once to see who', machine(held), pushedChange(lockedBy(alice), 'asked'), 'held → held', ['refresh t1', 'poll lease']],
  ['held: pushed own lock with more waiting than shown: refresh', machine(held), looked(waitingOn(1), 'push'), 'held → held', ['refresh t1', 'poll lease']],
  ['held: pushed own lock, the line as shown: nothing to do', machine(withLine), looked(waitingOn(2), 'push'), 'held → held', []],
  // Idle release.
  ['held: idle for idleTimeout, warn', machine(held), { type: 'idle', warning: 60_000, at: at() }, 'held warned → held', []],
  ['held, warned: keep editing', machine(warned), ev('keepEditing'), 'held → held', []],
  ['held: keep editing without a warning changes nothing', machine(held), ev('keepEditing'), 'held → held', []],
  ['held, warned: the warning went unanswered, run onIdle', machine(warned), ev('idleDue'), 'held warned idle → held', ['onIdle']],
  ['held: idle due without a warning does nothing', machine(held), ev('idleDue'), 'held → held', []],
  ['held, idling: onIdle settled, release (idle), lost without onLost', machine(idling), calledBack(), 'lost idle', ['release t1 (idle)', 'poll off', 'deadline off']],
  ['held, idling: onIdle threw, released all the same', machine(idling), calledBack(new Error('no draft')), 'lost idle', ['report', 'release t1 (idle)', 'poll off', 'deadline off']],
  ['held, idling: keep editing in time keeps the lock', machine(idling), ev('keepEditing'), 'held → held', []],
];

describe('the lock machine', () => {
  it.each(table)('%s', (_name, before, event, after, effects) => {
    const { state, effects: done } = reduce(before, event);
    expect(describePhase(state)).toBe(after);
    expect(done.map(describeEffect)).toEqual(effects);
  });

  it('shows who holds it after a pushed lock reaches a lost tab', () => {
    const { state } = reduce(machine(lost), looked(lockedBy(carol, 3), 'push'));
    expect(snapshotOf(state, 'page:1')).toMatchObject({
      holder: carol,
      isSelf: false,
      fence: null,
    });
  });

  it('shows the line: canAsk for a tab blocked by another user, then place and askState', () => {
    const blockedBy = (seen: Seen) => look('locked', 'announce', { seen: { ...seen, waiting: 2 } });
    expect(snapshotOf(asking(blockedBy(bobs)), 'page:1')).toMatchObject({
      status: 'locked',
      canAsk: true,
      waiting: 2,
      place: null,
      askState: null,
    });
    expect(snapshotOf(machine(blockedBy(bobs)), 'page:1').canAsk).toBe(false); // no adapter.ask
    const bySelf = blockedBy({ ...bobs, lock: lock(1, alice), isSelf: true });
    expect(snapshotOf(asking(bySelf), 'page:1').canAsk).toBe(false);
    expect(snapshotOf(asking(sending), 'page:1')).toMatchObject({
      status: 'locked',
      holder: bob,
      canAsk: false,
      place: null,
      askState: 'sending',
    });
    const { state } = reduce(asking(sending), asked(queued(1, 'declined')));
    expect(snapshotOf(state, 'page:1')).toMatchObject({ place: 1, askState: 'declined' });
  });

  it("shows the holder its line from the refresh's waiters, the same empty list when none", () => {
    const { state } = reduce(machine(refreshing), leased({ ...grant(), waiters: [bobWaits] }));
    expect(snapshotOf(state, 'page:1').requests).toEqual([bobWaits]);
    const { state: alone } = reduce(machine(refreshing), leased(grant()));
    expect(snapshotOf(alone, 'page:1').requests).toBe(NOBODY);
  });

  it('shows when the idle warning releases the page, on the server clock', () => {
    const skewed = machine(held, { offset: 5_000 });
    const { state } = reduce(skewed, {
      type: 'idle',
      warning: 60_000,
      at: { mono: 0, wall: 1_000 },
    });
    expect(snapshotOf(state, 'page:1').idleReleaseAt).toBe(66_000);
    const { state: back } = reduce(state, ev('keepEditing'));
    expect(snapshotOf(back, 'page:1').idleReleaseAt).toBeNull();
  });

  it('shows a handed-over tab the lock it handed on', () => {
    const { state } = reduce(machine(handingOver), handedOver);
    expect(snapshotOf(state, 'page:1')).toMatchObject({
      status: 'lost',
      reason: 'handed-over',
      holder: carol,
      token: null,
    });
  });

  it('shows a held lease that is being re-confirmed as acquiring, token kept, not checking', () => {
    const snapshot = snapshotOf(machine(confirming), 'page:1');
    expect(snapshot).toMatchObject({
      status: 'acquiring',
      isOwner: false,
      token: 't1',
      isChecking: false,
    });
  });

  it('shows an unreachable lease as lost with its token, and a first acquire as checking', () => {
    expect(snapshotOf(machine(unreachable), 'page:1')).toMatchObject({
      status: 'lost',
      reason: 'unreachable',
      token: 't1',
    });
    expect(snapshotOf(machine(acquiring), 'page:1').isChecking).toBe(true);
    expect(snapshotOf(machine(acquiring, { mode: 'manual' }), 'page:1').isChecking).toBe(false);
  });
});
