import type {
  LockEnding,
  StoreAcquireInput,
  StoreAcquireResult,
  StoreAnswerInput,
  StoreAnswerResult,
  StoreAskInput,
  StoreAskResult,
  StoreCheckInput,
  StoreCheckResult,
  StoredLock,
  StoredWaiter,
  StoreLeaveInput,
  StoreLeaveResult,
  StoreReleaseInput,
  StoreReleaseResult,
  StoreTakeOverInput,
  StoreTakeOverResult,
} from './lock-store';

/**
 * The lock rules as pure functions over one resource's record. Stores that can run a
 * read-modify-write atomically (the memory store, SQLite inside an immediate transaction,
 * Postgres under a row lock) apply these, so every store decides exactly alike. Stores that run
 * elsewhere (a Redis Lua script) must mirror them; the contract suite checks they do.
 *
 * Public: every export of this file is `lockRules.*` in `page-lock/server`, for custom stores
 * (docs/custom-store.md, "The full LockStore"): read the record, apply a rule, write back `next`
 * when it is not null, all in one transaction. Adding an export here adds it to the package.
 */

/** How many endings a record remembers, so dead tokens get the right `reason`. */
export const MAX_REMEMBERED_ENDINGS = 8;

/** How long the first waiter has to take a page that passed to it, unless the service says. */
export const DEFAULT_QUEUE_GRACE = 30_000;

export interface RememberedEnding {
  token: string;
  fence: number;
  ending: LockEnding;
}

/** All a store keeps for one resource. */
export interface ResourceRecord {
  resourceId: string;
  /** The last fence granted; 0 when the resource was never granted. */
  fence: number;
  /** The current grant, live or lapsed; null after a release. */
  lock: StoredLock | null;
  /** The last few endings, oldest first. */
  endings: RememberedEnding[];
}

/** The outcome of a rule, and the record to write back (null: nothing changed). */
export interface RuleOutcome<Result> {
  result: Result;
  next: ResourceRecord | null;
}

/** Whether `lock` is a live grant at `now` (`expiresAt > now`), for `get`, `getMany` and `list`. */
export function isLive(lock: StoredLock | null, now: number): lock is StoredLock {
  return lock !== null && lock.expiresAt > now;
}

function emptyRecord(resourceId: string): ResourceRecord {
  return { resourceId, fence: 0, lock: null, endings: [] };
}

function remember(
  endings: readonly RememberedEnding[],
  lock: StoredLock,
  ending: LockEnding,
): RememberedEnding[] {
  const kept = endings.filter((e) => e.token !== lock.token);
  kept.push({ token: lock.token, fence: lock.fence, ending });
  return kept.slice(-MAX_REMEMBERED_ENDINGS);
}

function endingOf(record: ResourceRecord, token: string): LockEnding | null {
  return record.endings.find((e) => e.token === token)?.ending ?? null;
}

/** A new grant: the next fence, a new token, `since` now unless `keepSince` says otherwise. */
function grant(
  record: ResourceRecord,
  input: StoreAcquireInput | StoreTakeOverInput,
  replacedEnding: LockEnding,
  keepSince: number | null,
): { lock: StoredLock; next: ResourceRecord } {
  const fence = record.fence + 1;
  const lock: StoredLock = {
    resourceId: input.resourceId,
    holder: input.holder,
    clientId: input.clientId,
    token: input.newToken,
    fence,
    since: keepSince ?? input.now,
    acquiredAt: input.now,
    expiresAt: input.now + input.ttl,
  };
  // The line passes to the new grant; a tab granted the page is no longer waiting for it.
  withQueue(
    lock,
    queueOf(record).filter((w) => w.clientId !== input.clientId),
  );
  const endings = record.lock
    ? remember(record.endings, record.lock, replacedEnding)
    : record.endings;
  return { lock, next: { resourceId: input.resourceId, fence, lock, endings } };
}

function queueOf(record: ResourceRecord): StoredWaiter[] {
  return record.lock?.queue ?? [];
}

/** Sets the lock's line; an empty line is no `queue` field at all (records stay as they were). */
function withQueue(lock: StoredLock, queue: StoredWaiter[]): StoredLock {
  if (queue.length > 0) lock.queue = queue;
  else delete lock.queue;
  return lock;
}

/**
 * Grants the resource to a waiter that reached the front (or was handed it): nobody knows the
 * token (`''`), its tab takes it by reclaiming within `queueGrace`. `ending`: how the grant it
 * replaces ended.
 */
function passTo(
  record: ResourceRecord,
  waiter: StoredWaiter,
  rest: StoredWaiter[],
  now: number,
  queueGrace: number,
  ending: LockEnding,
): ResourceRecord {
  const fence = record.fence + 1;
  const lock = withQueue(
    {
      resourceId: record.resourceId,
      holder: waiter.user,
      clientId: waiter.clientId,
      token: '',
      fence,
      since: now,
      acquiredAt: now,
      expiresAt: now + queueGrace,
    },
    rest,
  );
  const endings = record.lock ? remember(record.endings, record.lock, ending) : record.endings;
  return { resourceId: record.resourceId, fence, lock, endings };
}

/**
 * The line as of `now`, applied first by every change (see `StoreQueuePolicy`): departed waiters
 * (place lapsed) are dropped, and a grant that is gone or lapsed passes to the first waiter left.
 * Returns the same record object when nothing changed.
 */
export function settleQueue(
  record: ResourceRecord,
  now: number,
  queueGrace: number = DEFAULT_QUEUE_GRACE,
): ResourceRecord {
  const queue = queueOf(record);
  if (queue.length === 0) return record;
  const waiting = queue.filter((w) => w.expiresAt > now);
  const current = record.lock as StoredLock;
  if (current.expiresAt > now) {
    if (waiting.length === queue.length) return record;
    return { ...record, lock: withQueue({ ...current }, waiting) };
  }
  const [first, ...rest] = waiting;
  if (first) return passTo(record, first, rest, now, queueGrace, 'expired');
  return { ...record, lock: withQueue({ ...current }, []) };
}

/** The settled record, and whether settling changed it (then it must be written back). */
function settled(
  stored: ResourceRecord | null,
  resourceId: string,
  now: number,
  queueGrace: number | undefined,
): { record: ResourceRecord; moved: boolean } {
  const record = stored ?? emptyRecord(resourceId);
  const next = settleQueue(record, now, queueGrace);
  return { record: next, moved: next !== record };
}

/** A rule's outcome on a settled record: nothing changed by the rule still writes what settling did. */
function keep<Result>(result: Result, record: ResourceRecord, moved: boolean): RuleOutcome<Result> {
  return { result, next: moved ? record : null };
}

/** The same grant for longer; a reclaim also rotates the token (the old one is dead). */
function extend(
  record: ResourceRecord,
  input: StoreAcquireInput,
  rotateToken: boolean,
): { lock: StoredLock; next: ResourceRecord } {
  const current = record.lock as StoredLock;
  const lock: StoredLock = {
    ...current,
    holder: input.holder,
    token: rotateToken ? input.newToken : current.token,
    expiresAt: input.now + input.ttl,
  };
  return { lock, next: { ...record, lock } };
}

/** `LockStore.acquire` over the record (null: never granted). */
export function applyAcquire(
  stored: ResourceRecord | null,
  input: StoreAcquireInput,
): RuleOutcome<StoreAcquireResult> {
  const { record, moved } = settled(stored, input.resourceId, input.now, input.queueGrace);
  const current = record.lock;
  const live = isLive(current, input.now) ? current : null;
  const sameHolder = current !== null && current.holder.id === input.holder.id;

  if (input.token !== undefined) {
    // A grant passed to a waiter has token '': no presented token is ever it.
    if (current !== null && sameHolder && input.token !== '' && current.token === input.token) {
      const { lock, next } = extend(record, input, false);
      return { result: { outcome: live ? 'refreshed' : 'resumed', lock }, next };
    }
    const ending = endingOf(record, input.token);
    return keep({ outcome: 'dead-token', ending, lock: live }, record, moved);
  }

  // A reload of the holding tab gets its own grant back, live or lapsed-but-not-superseded, under
  // a fresh token: the page before the reload may still send a release with the old one. A
  // waiter's tab takes a page that passed to it the same way.
  if (current !== null && sameHolder && current.clientId === input.clientId) {
    const { lock, next } = extend(record, input, true);
    return { result: { outcome: 'reclaimed', lock }, next };
  }
  if (live) return keep({ outcome: 'locked', lock: live }, record, moved);

  const { lock, next } = grant(record, input, 'expired', null);
  return { result: { outcome: 'granted', lock, replaced: current }, next };
}

/** Ends the current grant as `ending`: the page passes to the first live waiter, else it is free. */
function endGrant(
  record: ResourceRecord,
  current: StoredLock,
  ending: LockEnding,
  now: number,
  queueGrace: number | undefined,
): ResourceRecord {
  const [first, ...rest] = queueOf(record).filter((w) => w.expiresAt > now);
  if (first) return passTo(record, first, rest, now, queueGrace ?? DEFAULT_QUEUE_GRACE, ending);
  return { ...record, lock: null, endings: remember(record.endings, current, ending) };
}

/** `LockStore.release` over the record. */
export function applyRelease(
  stored: ResourceRecord | null,
  input: StoreReleaseInput,
): RuleOutcome<StoreReleaseResult> {
  const before = stored?.lock ?? null;
  // The token being released may be a lapsed grant that settling would pass on: release it first.
  if (stored && before && input.token !== '' && before.token === input.token) {
    const next = endGrant(stored, before, 'released', input.now, input.queueGrace);
    const passedTo = next.lock ?? undefined;
    return {
      result: passedTo
        ? { outcome: 'released', lock: before, passedTo }
        : { outcome: 'released', lock: before },
      next,
    };
  }
  const { record, moved } = settled(stored, input.resourceId, input.now, input.queueGrace);
  if (isLive(record.lock, input.now)) return keep({ outcome: 'not-holder' }, record, moved);
  return keep({ outcome: 'free' }, record, moved);
}

/** `LockStore.takeOver` over the record. */
export function applyTakeOver(
  stored: ResourceRecord | null,
  input: StoreTakeOverInput,
): RuleOutcome<StoreTakeOverResult> {
  const { record, moved } = settled(stored, input.resourceId, input.now, input.queueGrace);
  const live = isLive(record.lock, input.now) ? record.lock : null;
  if (record.fence !== input.expectedFence || (input.expectFree && live)) {
    return keep({ outcome: 'fence-mismatch', lock: live }, record, moved);
  }
  const keepSince = live && live.holder.id === input.holder.id ? live.since : null;
  const { lock, next } = grant(record, input, live ? 'taken-over' : 'expired', keepSince);
  return { result: { outcome: 'granted', lock, replaced: record.lock }, next };
}

/** `LockStore.check` over the record; it never changes the record, so there is no `next`. */
export function applyCheck(
  stored: ResourceRecord | null,
  input: StoreCheckInput,
): StoreCheckResult {
  const record = stored ?? emptyRecord(input.resourceId);
  const current = record.lock;
  // A grant the line made has token '': nobody holds it until its tab reclaims it.
  if (current && input.token !== '' && current.token === input.token) {
    return isLive(current, input.now)
      ? { outcome: 'live', lock: current }
      : { outcome: 'lapsed', lock: current };
  }
  const live = isLive(current, input.now) ? current : null;
  return { outcome: 'dead', ending: endingOf(record, input.token), lock: live };
}

/** `LockStore.forceRelease` over the record: the live lock it ended, if any. */
export function applyForceRelease(
  stored: ResourceRecord | null,
  now: number,
  queueGrace?: number,
): RuleOutcome<StoredLock | null> {
  const current = stored?.lock ?? null;
  if (!stored || !current) return { result: null, next: null };
  // An admin's release is a release, lapsed or not: the old holder is told `released`.
  return {
    result: isLive(current, now) ? current : null,
    next: endGrant(stored, current, 'released', now, queueGrace),
  };
}

/** `LockStore.ask` over the record: join the line, keep a place, or take a page passed to this tab. */
export function applyAsk(
  stored: ResourceRecord | null,
  input: StoreAskInput,
): RuleOutcome<StoreAskResult> {
  const { record, moved } = settled(stored, input.resourceId, input.now, input.queueGrace);
  const current = record.lock;
  const { now } = input;
  if (current && current.holder.id === input.holder.id && current.clientId === input.clientId) {
    const { lock, next } = extend(record, input, true);
    return { result: { outcome: 'reclaimed', lock }, next };
  }
  if (!isLive(current, now)) return keep({ outcome: 'free' }, record, moved);
  if (current.holder.id === input.holder.id) {
    return keep({ outcome: 'self', lock: current }, record, moved);
  }

  const queue = queueOf(record).map((w) => ({ ...w }));
  let waiter = queue.find((w) => w.clientId === input.clientId);
  if (waiter) {
    waiter.expiresAt = now + input.ttl;
    if (!input.renew) {
      waiter.request = 'pending';
      waiter.requestExpiresAt = now + input.askTimeout;
      waiter.message = input.message;
    }
  } else {
    if (queue.length >= input.maxQueue) {
      return keep({ outcome: 'queue-full', lock: current }, record, moved);
    }
    waiter = {
      id: input.waiterId,
      user: input.holder,
      clientId: input.clientId,
      askedAt: now,
      expiresAt: now + input.ttl,
      message: input.message,
      request: 'pending',
      requestExpiresAt: now + input.askTimeout,
    };
    queue.push(waiter);
  }
  const lock = withQueue({ ...current }, queue);
  return {
    result: { outcome: 'queued', lock, waiter, place: queue.indexOf(waiter) + 1 },
    next: { ...record, lock },
  };
}

/** `LockStore.answer` over the record: the holder hands the page to a waiter, or declines. */
export function applyAnswer(
  stored: ResourceRecord | null,
  input: StoreAnswerInput,
): RuleOutcome<StoreAnswerResult> {
  const { record, moved } = settled(stored, input.resourceId, input.now, input.queueGrace);
  const current = record.lock;
  const live = isLive(current, input.now) ? current : null;
  if (!live || input.token === '' || live.token !== input.token) {
    return keep({ outcome: 'not-holder', lock: live }, record, moved);
  }
  const queue = queueOf(record);
  const waiter = queue.find((w) => w.id === input.waiterId);
  if (!waiter) return keep({ outcome: 'not-queued', lock: live }, record, moved);
  const rest = queue.filter((w) => w !== waiter);
  if (input.answer === 'hand-over') {
    const grace = input.queueGrace ?? DEFAULT_QUEUE_GRACE;
    const next = passTo(record, waiter, rest, input.now, grace, 'handed-over');
    return {
      result: { outcome: 'handed-over', lock: next.lock as StoredLock, replaced: live },
      next,
    };
  }
  const lock = withQueue(
    { ...live },
    queue.map((w) => (w === waiter ? { ...w, request: 'declined' as const } : w)),
  );
  return { result: { outcome: 'declined', lock }, next: { ...record, lock } };
}

/** `LockStore.leave` over the record: a waiting tab gives up its place. */
export function applyLeave(
  stored: ResourceRecord | null,
  input: StoreLeaveInput,
): RuleOutcome<StoreLeaveResult> {
  const { record, moved } = settled(stored, input.resourceId, input.now, input.queueGrace);
  const current = record.lock;
  const queue = queueOf(record);
  if (!current || !queue.some((w) => w.clientId === input.clientId)) {
    return keep({ outcome: 'not-queued' }, record, moved);
  }
  const lock = withQueue(
    { ...current },
    queue.filter((w) => w.clientId !== input.clientId),
  );
  return { result: { outcome: 'left', lock }, next: { ...record, lock } };
}
