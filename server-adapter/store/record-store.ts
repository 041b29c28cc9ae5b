import {
  applyAcquire,
  applyAnswer,
  applyAsk,
  applyCheck,
  applyForceRelease,
  applyLeave,
  applyRelease,
  applyTakeOver,
  isLive,
  type ResourceRecord,
  type RuleOutcome,
} from './lock-rules';
import type { LockStore, StoredLock } from './lock-store';

/**
 * One resource's record as a record store keeps it: the shared rules' {@link ResourceRecord}
 * plus a `version` that grows by one with every write. Plain JSON (strings, numbers, arrays,
 * objects, null): store it in a JSON or text column, a document, an item.
 */
export interface LockRecord extends ResourceRecord {
  /** 1 for the first write of a resource, then one more with every write. */
  version: number;
}

type Awaitable<T> = T | Promise<T>;

/** The two functions (and the optional third) a record store is built from. */
export interface RecordLockStoreOptions {
  /**
   * The record of `resourceId` as last written, or null when it was never written. Return the
   * record as `compareAndSet` was given it (a JSON round trip is fine); its `version` must be
   * the one stored alongside it.
   */
  read(resourceId: string): Awaitable<LockRecord | null | undefined>;
  /**
   * Writes `next` as the record of `resourceId`, but only while the stored version is still
   * `expectedVersion`; `null` means "only if there is no record yet" (insert if absent). Resolves
   * to `true` when it wrote and `false` when the version had moved on (or a record appeared):
   * one conditional statement such as `UPDATE … SET version = $next.version, record = $next
   * WHERE resource_id = $id AND version = $expected`, never a read followed by a write.
   * `next.version` is always `expectedVersion + 1` (1 for an insert).
   */
  compareAndSet(
    resourceId: string,
    expectedVersion: number | null,
    next: LockRecord,
  ): Awaitable<boolean>;
  /**
   * Every record (for `list()`, an admin screen). The store keeps those with a live lock. It may
   * return only records whose `lock.expiresAt` is after `now`, if it can filter cheaply. Without
   * it, the store's `list()` throws an error that names this option.
   */
  list?(clock: { now: number }): Awaitable<Iterable<LockRecord>>;
  /**
   * How many times one operation reads and tries its compare-and-set before it gives up with an
   * error (nothing granted). Each lost attempt means another writer changed the record meanwhile.
   * Default 16.
   */
  maxAttempts?: number;
}

const PART = '[page-lock] [record-store]';

/** Retries after a lost compare-and-set wait up to this long (ms), doubling from 1 ms. */
const MAX_BACKOFF_MS = 50;
const DEFAULT_MAX_ATTEMPTS = 16;

/**
 * A {@link LockStore} built from a versioned record and a conditional write, for any database
 * that can "update where version = expected": DynamoDB (`ConditionExpression`), MongoDB
 * (`updateOne({ _id, version })`), an ORM over SQL, a key-value store with CAS.
 *
 * Each change reads the resource's record, applies the shared lock rules to it (the same
 * functions the memory, SQLite and Postgres stores apply) and writes the result with
 * `compareAndSet`. A lost compare-and-set means another writer got in first: the change is
 * decided again on the fresh record, after a short randomized pause, up to `maxAttempts` times;
 * then it fails with an error and grants nothing. Calls that change nothing (a refused acquire,
 * a read, a check) write nothing, so they create no record.
 *
 * It decides expiry by the `now` the service passes (the service's clock): several server
 * instances sharing one database must have clocks that agree, or one instance must serve the
 * locks (DESIGN.md, invariant 6). See docs/custom-store.md.
 *
 * @example
 * ```ts
 * const records = new Map<string, LockRecord>(); // your database instead
 * const store = createRecordLockStore({
 *   read: (id) => records.get(id) ?? null,
 *   compareAndSet: (id, expected, next) => {
 *     if ((records.get(id)?.version ?? null) !== expected) return false;
 *     records.set(id, next);
 *     return true;
 *   },
 *   list: () => records.values(),
 * });
 * ```
 */
export function createRecordLockStore(options: RecordLockStoreOptions): LockStore {
  if (typeof options?.read !== 'function') throw new Error(`${PART} Missing option "read"`);
  if (typeof options.compareAndSet !== 'function') {
    throw new Error(`${PART} Missing option "compareAndSet"`);
  }
  if (options.list !== undefined && typeof options.list !== 'function') {
    throw new Error(`${PART} Option "list" must be a function that returns every record`);
  }
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new Error(`${PART} Option "maxAttempts" must be a whole number of at least 1`);
  }

  const read = async (resourceId: string): Promise<LockRecord | null> => {
    const record: unknown = await options.read(resourceId);
    if (record === null || record === undefined) return null;
    return checkedRecord(record, resourceId, 'read()');
  };

  /**
   * Read, decide, write if the rule changed something; again on a lost compare-and-set. The
   * result is only returned once its record is written, so nothing is granted that was not kept.
   */
  const change = async <Result>(
    operation: string,
    resourceId: string,
    rule: (record: ResourceRecord | null) => RuleOutcome<Result>,
  ): Promise<Result> => {
    for (let attempt = 1; ; attempt++) {
      const stored = await read(resourceId);
      const { result, next } = rule(stored);
      if (!next) return result;
      const expectedVersion = stored ? stored.version : null;
      const record: LockRecord = { ...next, version: (expectedVersion ?? 0) + 1 };
      const wrote: unknown = await options.compareAndSet(resourceId, expectedVersion, record);
      if (typeof wrote !== 'boolean') {
        throw new Error(
          `${PART} compareAndSet() must resolve to true (it wrote) or false (the version had moved on), not ${describeValue(wrote)}`,
        );
      }
      if (wrote) return result;
      if (attempt >= maxAttempts) {
        throw new Error(
          `${PART} ${operation} of "${resourceId}" lost the compare-and-set ${attempt} times in a row (other writers kept changing the record); nothing was changed. Raise "maxAttempts" if this resource is this busy.`,
        );
      }
      await pause(attempt);
    }
  };

  const liveLock = async (resourceId: string, now: number): Promise<StoredLock | null> => {
    const lock = (await read(resourceId))?.lock ?? null;
    return isLive(lock, now) ? lock : null;
  };

  return {
    async acquire(input) {
      const result = await change('acquire', input.resourceId, (r) => applyAcquire(r, input));
      return { ...result, now: input.now };
    },
    async release(input) {
      const result = await change('release', input.resourceId, (r) => applyRelease(r, input));
      return { ...result, now: input.now };
    },
    async takeOver(input) {
      const result = await change('takeOver', input.resourceId, (r) => applyTakeOver(r, input));
      return { ...result, now: input.now };
    },
    async check(input) {
      return { ...applyCheck(await read(input.resourceId), input), now: input.now };
    },
    async get(resourceId, { now }) {
      return liveLock(resourceId, now);
    },
    async getMany(resourceIds, { now }) {
      const locks = await Promise.all(resourceIds.map((id) => liveLock(id, now)));
      const found = new Map<string, StoredLock>();
      resourceIds.forEach((id, index) => {
        const lock = locks[index];
        if (lock) found.set(id, lock);
      });
      return found;
    },
    async list({ now }) {
      if (!options.list) {
        throw new Error(
          `${PART} list() needs the option "list", a function that returns every record (for an admin screen)`,
        );
      }
      const live: StoredLock[] = [];
      for (const each of await options.list({ now })) {
        const record = checkedRecord(each, undefined, 'list()');
        if (isLive(record.lock, now)) live.push(record.lock);
      }
      return live;
    },
    async forceRelease(resourceId, { now, queueGrace }) {
      return change('forceRelease', resourceId, (r) => applyForceRelease(r, now, queueGrace));
    },
    async ask(input) {
      const result = await change('ask', input.resourceId, (r) => applyAsk(r, input));
      return { ...result, now: input.now };
    },
    async answer(input) {
      const result = await change('answer', input.resourceId, (r) => applyAnswer(r, input));
      return { ...result, now: input.now };
    },
    async leave(input) {
      const result = await change('leave', input.resourceId, (r) => applyLeave(r, input));
      return { ...result, now: input.now };
    },
  };
}

/** Full jitter over a doubling cap: writers that collided do not collide again in step. */
function pause(attempt: number): Promise<void> {
  const cap = Math.min(MAX_BACKOFF_MS, 2 ** (attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
}

/**
 * A record that came back from the application's functions. Only its shape is checked, cheaply:
 * enough to catch a forgotten `JSON.parse`, a missing version or another resource's record,
 * which would otherwise hand one resource's lock to another.
 */
function checkedRecord(value: unknown, resourceId: string | undefined, from: string): LockRecord {
  const record = value as Partial<LockRecord> | null;
  if (typeof record !== 'object' || record === null) {
    throw new Error(
      `${PART} ${from} must give record objects (or null), not ${describeValue(value)}`,
    );
  }
  if (!Number.isSafeInteger(record.version) || (record.version as number) < 1) {
    throw new Error(
      `${PART} ${from} gave a record without a valid "version" (a whole number, 1 or more): return the version stored with the record`,
    );
  }
  if (
    typeof record.resourceId !== 'string' ||
    (resourceId !== undefined && record.resourceId !== resourceId) ||
    typeof record.fence !== 'number' ||
    !Array.isArray(record.endings) ||
    record.lock === undefined
  ) {
    const asked = resourceId === undefined ? '' : ` for "${resourceId}"`;
    throw new Error(
      `${PART} ${from} gave something that is not a lock record${asked}: return what compareAndSet() was given`,
    );
  }
  return record as LockRecord;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  return typeof value === 'object' ? 'an object' : String(value);
}
