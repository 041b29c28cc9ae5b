import type { Lock, LockUser } from '../../src/protocol/protocol';

/**
 * A lock as the store keeps it: the public {@link Lock} plus what only the holder may know.
 * A store keeps the current grant even after it lapsed (until the next grant replaces it), so
 * that a lapsed holder can resume when nobody held the resource since.
 */
export interface StoredLock extends Lock {
  /** The holder's browser tab. Never sent to anyone else. */
  clientId: string;
  /**
   * The lease secret. Never sent to anyone but the holder. `''` for a grant the store made to a
   * waiter (a hand-over, or the page passing to the first in line): nobody knows its token, and
   * the waiter's tab takes it by reclaiming (same user and `clientId`, a fresh token).
   */
  token: string;
  /**
   * The line of tabs waiting for this resource, first first (absent or empty: nobody waits). It
   * lives with the current grant, live or lapsed, and passes to the next grant; a store that
   * ends a grant while someone waits grants the first live waiter instead ({@link StoreQueuePolicy}).
   */
  queue?: StoredWaiter[];
}

/** One place in line as the store keeps it: the public {@link Waiter} plus its tab. */
export interface StoredWaiter {
  id: string;
  user: LockUser;
  /** The waiting tab; only it can take the page when it reaches the front. */
  clientId: string;
  askedAt: number;
  /** The place lapses (the tab left or sleeps) unless renewed by the waiter's polls. */
  expiresAt: number;
  message: string | null;
  /** `lapsed` is never stored: a `pending` request past `requestExpiresAt` is lapsed. */
  request: 'pending' | 'declined';
  requestExpiresAt: number;
}

/**
 * How the line moves. When a grant ends (released, handed over, force-released, or lapsed while
 * someone waits) the first waiter whose place is live (`expiresAt > now`) is granted the resource
 * at once, with token `''`, `since = acquiredAt = now` and `expiresAt = now + queueGrace`; nobody
 * else can acquire it meanwhile. Its tab takes it by reclaiming. If it does not within the grace,
 * the grant lapses and the next waiter is granted the same way, found by the next change that
 * looks (no sweeper runs). Waiters whose place lapsed are dropped, never granted.
 */
export interface StoreQueuePolicy {
  /** ms a waiter that reached the front has to take the page (default 30 000). */
  queueGrace?: number;
}

/** How a grant ended, as remembered for the tokens of the last few grants. */
export type LockEnding = 'released' | 'taken-over' | 'expired' | 'handed-over';

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

export interface StoreAcquireInput extends StoreClock, StoreQueuePolicy {
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

export interface StoreReleaseInput extends StoreClock, StoreQueuePolicy {
  resourceId: string;
  token: string;
}

export type StoreReleaseResult =
  /**
   * The token was the current grant's (live or lapsed): the resource is free now, or (someone
   * waited) granted to the first live waiter, `passedTo`.
   */
  | { outcome: 'released'; lock: StoredLock; passedTo?: StoredLock }
  /** The token is not the current grant's, and nobody holds the resource. Nothing changed. */
  | { outcome: 'free' }
  /** Someone else holds a live lock. Nothing changed. */
  | { outcome: 'not-holder' };

export interface StoreTakeOverInput extends StoreClock, StoreQueuePolicy {
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
export interface StoreAskInput extends StoreClock, StoreQueuePolicy {
  resourceId: string;
  /** Who asks. */
  holder: LockUser;
  clientId: string;
  /** The id a new place gets (made by the service); an existing place keeps its own. */
  waiterId: string;
  message: string | null;
  /**
   * `true`: the waiter's poll. It keeps the place alive (`expiresAt = now + ttl`) and changes
   * nothing else. `false`: ask (again): the request is `pending` again until `now + askTimeout`,
   * with this message. Either joins at the back when the tab has no place.
   */
  renew: boolean;
  /** Place lease, and the lease of a grant this call reclaims. */
  ttl: number;
  askTimeout: number;
  /** The token a reclaim hands out. */
  newToken: string;
  /** A line already this long (live places) refuses one more. */
  maxQueue: number;
}

export type StoreAskResult =
  /** In line: `place` 1 is next. */
  | { outcome: 'queued'; lock: StoredLock; waiter: StoredWaiter; place: number }
  /**
   * The page was granted to this tab (it reached the front, or was handed it), or it holds it:
   * reclaimed as by `acquire` (same fence and `since`, token `newToken`, `expiresAt = now + ttl`).
   */
  | { outcome: 'reclaimed'; lock: StoredLock }
  /** Nobody holds it and nobody waits: acquire instead. Nothing changed. */
  | { outcome: 'free' }
  /** This user holds it, in another tab. Nothing changed. */
  | { outcome: 'self'; lock: StoredLock }
  /** `maxQueue` tabs already wait. Nothing changed. */
  | { outcome: 'queue-full'; lock: StoredLock };

export interface StoreAnswerInput extends StoreClock, StoreQueuePolicy {
  resourceId: string;
  /** The holder's live token. */
  token: string;
  waiterId: string;
  answer: 'hand-over' | 'decline';
}

export type StoreAnswerResult =
  /** Granted to the waiter (as the line passes it: token `''`, for `queueGrace`); `replaced` ended. */
  | { outcome: 'handed-over'; lock: StoredLock; replaced: StoredLock }
  /** The waiter's request is `declined`; it keeps its place. */
  | { outcome: 'declined'; lock: StoredLock }
  /** The token is not the live grant's. Nothing changed. */
  | { outcome: 'not-holder'; lock: StoredLock | null }
  /** No live place has this id. Nothing changed. */
  | { outcome: 'not-queued'; lock: StoredLock };

export interface StoreLeaveInput extends StoreClock, StoreQueuePolicy {
  resourceId: string;
  clientId: string;
}

export type StoreLeaveResult =
  | { outcome: 'left'; lock: StoredLock }
  /** The tab had no place. Nothing changed. */
  | { outcome: 'not-queued' };

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
  /**
   * End the current grant whatever its token (an admin's action); returns the live lock it ended.
   * Someone waiting is granted the resource as {@link StoreQueuePolicy} says.
   */
  forceRelease(
    resourceId: string,
    clock: StoreClock & StoreQueuePolicy,
  ): Promise<StoredLock | null>;
  /**
   * Ask to edit: join the line (or keep or renew a place). Optional: without `ask`, `answer` and
   * `leave` the service answers these requests 501 `not-supported`. Every built-in store has them.
   */
  ask?(input: StoreAskInput): Promise<DecidedAt<StoreAskResult>>;
  /** The holder hands the page to a waiter, or declines its request. */
  answer?(input: StoreAnswerInput): Promise<DecidedAt<StoreAnswerResult>>;
  /** A waiting tab leaves the line (its page closed). */
  leave?(input: StoreLeaveInput): Promise<DecidedAt<StoreLeaveResult>>;
  /** Release what the store itself opened (never a client the application passed in). */
  close?(): Promise<void>;
}
