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

export interface MemoryLockStore extends LockStore {
  /** How many resource records the store keeps (one per resource ever locked). */
  readonly size: number;
}

/**
 * A store in this process's memory: for tests, stories, the in-browser lock server and single
 * processes that accept losing their locks (and fences) on restart.
 */
export function createMemoryLockStore(): MemoryLockStore {
  const records = new Map<string, ResourceRecord>();

  // Records are copied in and out so callers can never mutate what the store keeps.
  const read = (resourceId: string): ResourceRecord | null => {
    const record = records.get(resourceId);
    return record ? structuredClone(record) : null;
  };
  const apply = <Result>(outcome: RuleOutcome<Result>): Result => {
    if (outcome.next) records.set(outcome.next.resourceId, structuredClone(outcome.next));
    return structuredClone(outcome.result);
  };
  const liveLock = (resourceId: string, now: number): StoredLock | null => {
    const lock = records.get(resourceId)?.lock ?? null;
    return isLive(lock, now) ? structuredClone(lock) : null;
  };

  return {
    get size() {
      return records.size;
    },
    async acquire(input) {
      return { ...apply(applyAcquire(read(input.resourceId), input)), now: input.now };
    },
    async release(input) {
      return { ...apply(applyRelease(read(input.resourceId), input)), now: input.now };
    },
    async takeOver(input) {
      return { ...apply(applyTakeOver(read(input.resourceId), input)), now: input.now };
    },
    async check(input) {
      return { ...applyCheck(read(input.resourceId), input), now: input.now };
    },
    async get(resourceId, { now }) {
      return liveLock(resourceId, now);
    },
    async getMany(resourceIds, { now }) {
      const found = new Map<string, StoredLock>();
      for (const id of resourceIds) {
        const lock = liveLock(id, now);
        if (lock) found.set(id, lock);
      }
      return found;
    },
    async list({ now }) {
      return [...records.keys()].flatMap((id) => liveLock(id, now) ?? []);
    },
    async forceRelease(resourceId, { now, queueGrace }) {
      return apply(applyForceRelease(read(resourceId), now, queueGrace));
    },
    async ask(input) {
      return { ...apply(applyAsk(read(input.resourceId), input)), now: input.now };
    },
    async answer(input) {
      return { ...apply(applyAnswer(read(input.resourceId), input)), now: input.now };
    },
    async leave(input) {
      return { ...apply(applyLeave(read(input.resourceId), input)), now: input.now };
    },
  };
}
