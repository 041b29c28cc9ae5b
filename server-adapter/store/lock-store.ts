import type { Lock, LockUser } from '../../src/protocol/protocol';

/**
 * A lock as the store keeps it: the public {@link Lock} plus what only the holder may know.
 * A store keeps the current grant even after it lapsed (until the next grant replaces it), so
 * that a lapsed holder can resume when nobody held the resource since.
 */
export interface StoredLock extends Lock {
  /** The holder's browser tab. Never sent to anyone else. */
  clientId: string;
  /** The lease secret. Never sent to anyone but the holder. */
  token: string;
}

/** How a grant ended, as remembered for the tokens of the last few grants. */
export type LockEnding = 'released' | 'taken-over' | 'expired';

/**
 * Every store call carries the service's clock (invariant 6, revised). One clock decides expiry:
 * - in-process stores (memory, SQLite, anything one server owns) decide by this `now`;
 * - stores that several server instances share (Redis, Postgres) ignore it and read their own
 *   clock inside the atomic operation (Redis `TIME`, Postgres `clock_timestamp()`), so instances
 *   whose clocks disagree never grant overlapping leases.
 */
export interface StoreClock {
  /** The service's `now()`, epoch ms. A lock is live while `expiresAt > now`. */
  now: number;
}

/**
 * What a change was decided at: the clock value the store used (its own, or the service's it was
 * given). The service answers with it, so a client's lease deadline and the store's agree.
 */
export type DecidedAt<Result> = Result & { now: number };

export interface StoreAcquireInput extends StoreClock {
  resourceId: string;
  holder: LockUser;
  clientId: string;
  /** The token the client presents to refresh or resume; absent on a first acquire or reclaim. */
  token?: string;
  /** The token to hand out if this call makes a new grant (made by the service). */
  newToken: string;
  /** Lease length in ms: a grant, refresh, reclaim or resume lasts until `now + ttl`. */
  ttl: number;
}

export type StoreAcquireResult =
  /** A new grant: fence = previous fence + 1, `since = acquiredAt = now`. */
  | { outcome: 'granted'; lock: StoredLock; replaced: StoredLock | null }
  /** The presented token is live: same lock, `expiresAt` moved. */
  | { outcome: 'refreshed'; lock: StoredLock }
  /** The presented token had lapsed and nobody was granted the resource since: same lock again. */
  | { outcome: 'resumed'; lock: StoredLock }
  /**
   * No token, but this user's `clientId` holds it (a reload): same fence and `since`, a fresh
   * token (`newToken`); the old token is dead, so a late `pagehide` beacon ends nothing.
   */
  | { outcome: 'reclaimed'; lock: StoredLock }
  /** Someone else (or this user in another tab) holds a live lock. Nothing changed. */
  | { outcome: 'locked'; lock: StoredLock }
  /**
   * The presented token is not live and cannot resume. Nothing changed. `ending` is what the
   * store remembers of it (null when it no longer does); `lock` is the live lock, if any.
   */
  | { outcome: 'dead-token'; ending: LockEnding | null; lock: StoredLock | null };

export interface StoreReleaseInput extends StoreClock {
  resourceId: string;
  token: string;
}

export type StoreReleaseResult =
  /** The token was the current grant's (live or lapsed): the resource is free now. */
  | { outcome: 'released'; lock: StoredLock }
  /** The token is not the current grant's, and nobody holds the resource. Nothing changed. */
  | { outcome: 'free' }
  /** Someone else holds a live lock. Nothing changed. */
  | { outcome: 'not-holder' };

export interface StoreTakeOverInput extends StoreClock {
  resourceId: string;
  holder: LockUser;
  clientId: string;
  /** The fence the user saw. The takeover happens only while the resource's fence still is it. */
  expectedFence: number;
  /**
   * The service saw no live lock, so it asked no `canTakeOver`: if the grant at `expectedFence`
   * is live again (its holder resumed or reclaimed it since), that is a `fence-mismatch` too,
   * never a takeover nobody allowed. Absent: a live lock at `expectedFence` is displaced.
   */
  expectFree?: boolean;
  newToken: string;
  ttl: number;
}

export type StoreTakeOverResult =
  /**
   * A new grant (fence + 1). `replaced` is the grant it ended, if any; `since` is kept when the
   * replaced lock was live and held by the same user ("edit here instead").
   */
  | { outcome: 'granted'; lock: StoredLock; replaced: StoredLock | null }
  /** The resource's fence is no longer `expectedFence`. Nothing changed. */
  | { outcome: 'fence-mismatch'; lock: StoredLock | null };

export interface StoreCheckInput extends StoreClock {
  resourceId: string;
  token: string;
}

export type StoreCheckResult =
  /** The token is the live grant's. */
  | { outcome: 'live'; lock: StoredLock }
  /** The token is the current grant's, but its lease lapsed. */
  | { outcome: 'lapsed'; lock: StoredLock }
  /** The token is not the current grant's. `lock` is the live lock, if any. */
  | { outcome: 'dead'; ending: LockEnding | null; lock: StoredLock | null };

/**
 * The few atomic operations a lock needs. Each method is one atomic step against the backing
 * store (one transaction, one conditional statement, one script), never read-then-write, so
 * that several server processes sharing one store keep the invariants of DESIGN.md.
 *
 * Stores keep one small record per resource (its fence, its current grant and a bounded memory
 * of the last few endings) and nothing else: no sweeper is needed, an expired lock is simply
 * free to the next acquire. Fences never go backwards, not even across release or a restart.
 */
export interface LockStore {
  /** Acquire, refresh, reclaim or resume, as the protocol's acquire row says. */
  acquire(input: StoreAcquireInput): Promise<DecidedAt<StoreAcquireResult>>;
  /** Release the grant whose token this is. */
  release(input: StoreReleaseInput): Promise<DecidedAt<StoreReleaseResult>>;
  /** Grant the resource to `holder` if its fence is still `expectedFence`. Policy is the service's. */
  takeOver(input: StoreTakeOverInput): Promise<DecidedAt<StoreTakeOverResult>>;
  /** Whether `token` is the live grant of `resourceId`, without changing anything. */
  check(input: StoreCheckInput): Promise<DecidedAt<StoreCheckResult>>;
  /** The live lock of one resource, or null when it is free. */
  get(resourceId: string, clock: StoreClock): Promise<StoredLock | null>;
  /** The live locks among `resourceIds` (free ones are absent from the map). */
  getMany(resourceIds: readonly string[], clock: StoreClock): Promise<Map<string, StoredLock>>;
  /** Every live lock, for an admin screen. */
  list(clock: StoreClock): Promise<StoredLock[]>;
  /** End the current grant whatever its token (an admin's action); returns the live lock it ended. */
  forceRelease(resourceId: string, clock: StoreClock): Promise<StoredLock | null>;
  /** Release what the store itself opened (never a client the application passed in). */
  close?(): Promise<void>;
}
