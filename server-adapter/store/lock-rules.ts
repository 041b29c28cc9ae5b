import type {
  LockEnding,
  StoreAcquireInput,
  StoreAcquireResult,
  StoreCheckInput,
  StoreCheckResult,
  StoredLock,
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
  const endings = record.lock
    ? remember(record.endings, record.lock, replacedEnding)
    : record.endings;
  return { lock, next: { resourceId: input.resourceId, fence, lock, endings } };
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
  const record = stored ?? emptyRecord(input.resourceId);
  const current = record.lock;
  const live = isLive(current, input.now) ? current : null;
  const sameHolder = current !== null && current.holder.id === input.holder.id;

  if (input.token !== undefined) {
    if (current !== null && sameHolder && current.token === input.token) {
      const { lock, next } = extend(record, input, false);
      return { result: { outcome: live ? 'refreshed' : 'resumed', lock }, next };
    }
    return {
      result: { outcome: 'dead-token', ending: endingOf(record, input.token), lock: live },
      next: null,
    };
  }

  // A reload of the holding tab gets its own grant back, live or lapsed-but-not-superseded, under
  // a fresh token: the page before the reload may still send a release with the old one.
  if (current !== null && sameHolder && current.clientId === input.clientId) {
    const { lock, next } = extend(record, input, true);
    return { result: { outcome: 'reclaimed', lock }, next };
  }
  if (live) return { result: { outcome: 'locked', lock: live }, next: null };

  const { lock, next } = grant(record, input, 'expired', null);
  return { result: { outcome: 'granted', lock, replaced: current }, next };
}

/** `LockStore.release` over the record. */
export function applyRelease(
  stored: ResourceRecord | null,
  input: StoreReleaseInput,
): RuleOutcome<StoreReleaseResult> {
  const current = stored?.lock ?? null;
  if (stored && current && current.token === input.token) {
    return {
      result: { outcome: 'released', lock: current },
      next: { ...stored, lock: null, endings: remember(stored.endings, current, 'released') },
    };
  }
  if (isLive(current, input.now)) return { result: { outcome: 'not-holder' }, next: null };
  return { result: { outcome: 'free' }, next: null };
}

/** `LockStore.takeOver` over the record. */
export function applyTakeOver(
  stored: ResourceRecord | null,
  input: StoreTakeOverInput,
): RuleOutcome<StoreTakeOverResult> {
  const record = stored ?? emptyRecord(input.resourceId);
  const live = isLive(record.lock, input.now) ? record.lock : null;
  if (record.fence !== input.expectedFence || (input.expectFree && live)) {
    return { result: { outcome: 'fence-mismatch', lock: live }, next: null };
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
  if (current && current.token === input.token) {
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
): RuleOutcome<StoredLock | null> {
  const current = stored?.lock ?? null;
  if (!stored || !current) return { result: null, next: null };
  // An admin's release is a release, lapsed or not: the old holder is told `released`.
  return {
    result: isLive(current, now) ? current : null,
    next: { ...stored, lock: null, endings: remember(stored.endings, current, 'released') },
  };
}
