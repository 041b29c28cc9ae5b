import {
  type BatchStatusEntry,
  hasUnstorableText,
  type Lock,
  type LockAction,
  type LockUser,
  type LostReason,
  MAX_BATCH_IDS,
  MAX_RANDOM_ID_LENGTH,
  randomIdProblem,
  resourceIdProblem,
  storableText,
} from '../../src/protocol/protocol';
import { createLocalLockFeed } from '../live/local-feed';
import type { LockChange, LockFeed } from '../live/lock-feed';
import type { LockEnding, LockStore, StoredLock } from '../store/lock-store';
import {
  LockForbiddenError,
  LockInputError,
  LockNotHeldError,
  LockStoreError,
  PageLockError,
} from './errors';
import type { LockEvent } from './events';
import { createLockToken } from './lock-token';

/** 90 s: hidden tabs' timers are throttled to about once a minute and must still meet it. */
export const DEFAULT_TTL = 90_000;

export interface LockServiceOptions {
  store: LockStore;
  /** Lease length in ms (default 90 000). */
  ttl?: number;
  /** Whether `user` may take `lock` from another user (default: never). May be async. */
  canTakeOver?: (user: LockUser, lock: Lock) => boolean | Promise<boolean>;
  /** Audit and metrics hook. It runs after the change; what it throws is ignored. */
  onEvent?: (event: LockEvent) => void;
  /**
   * Per-resource authorization (default: allow everything). Asked before the store is touched,
   * for every GET (`observe`), batch GET (`observe`, per id), acquire (`acquire`) and takeover
   * (`takeOver`). May be async. A refusal is a 403 naming the action; in a batch GET the refused
   * id is `{ status: 'forbidden' }`.
   */
  authorize?: (
    user: LockUser,
    resourceId: string,
    action: LockAction,
  ) => boolean | Promise<boolean>;
  /**
   * The clock, epoch ms (default `Date.now`). It decides expiry for in-process stores (memory,
   * SQLite); stores shared by several instances (Redis, Postgres) decide by their own clock
   * (invariant 6). A value that is not a finite number is an error, never a grant.
   */
  now?: () => number;
  /**
   * Where changes are published for the live channel (`GET {base}/events`): default one
   * in-process feed, right for the memory and SQLite stores in one process. Several instances
   * share a feed of their store (`createRedisLockFeed`, `createPostgresLockFeed`).
   */
  feed?: LockFeed;
  /** Told when publishing a change failed (default `console.error`). The change itself stands. */
  onFeedError?: (error: unknown, change: LockChange) => void;
}

export interface AcquireOptions {
  /** The browser tab asking (random per tab). */
  clientId: string;
  /** The token the tab holds, to refresh or resume its lease. */
  token?: string;
}

export interface TakeOverOptions {
  clientId: string;
  /** The fence of the lock the user saw: nobody displaces a holder they never saw. */
  expectedFence: number;
}

/** Every change answers with the clock it was decided by (the store's, when it has its own). */
interface DecidedAt {
  now: number;
}

export interface HeldResult extends DecidedAt {
  status: 'held';
  lock: Lock;
  token: string;
  ttlMs: number;
  /** How the lease came to be held by this call. */
  via: 'granted' | 'refreshed' | 'reclaimed' | 'resumed' | 'taken-over';
}

export interface LockedResult extends DecidedAt {
  status: 'locked';
  lock: Lock;
  isSelf: boolean;
  canTakeOver: boolean;
  ttlMs: number;
}

export interface LostResult extends DecidedAt {
  status: 'lost';
  reason: LostReason;
  lock: Lock | null;
  /** The live lock's holder is this same user (in another tab: "edit here instead"). */
  isSelf: boolean;
}

export type AcquireResult = HeldResult | LockedResult | LostResult;

export type ReleaseResult = DecidedAt &
  ({ status: 'released'; lock: Lock } | { status: 'free' } | { status: 'not-holder' });

export type TakeOverResult =
  | HeldResult
  | (DecidedAt & { status: 'fence-mismatch'; lock: Lock | null })
  | (DecidedAt & { status: 'forbidden'; lock: Lock });

export type StatusResult =
  | { status: 'free'; ttlMs: number }
  | { status: 'locked'; lock: Lock; isSelf: boolean; canTakeOver: boolean; ttlMs: number }
  | { status: 'held'; lock: Lock; isSelf: true; canTakeOver: true; ttlMs: number };

export interface Viewer {
  user: LockUser;
  /** With the viewer's tab id, a status can say `held`. */
  clientId?: string;
}

export interface LockService {
  readonly ttl: number;
  /** The feed this service publishes its changes to, for the event streams. */
  readonly feed: LockFeed;
  now(): number;
  acquire(resourceId: string, user: LockUser, options: AcquireOptions): Promise<AcquireResult>;
  release(resourceId: string, token: string): Promise<ReleaseResult>;
  takeOver(resourceId: string, user: LockUser, options: TakeOverOptions): Promise<TakeOverResult>;
  get(resourceId: string, viewer?: Viewer): Promise<StatusResult>;
  getMany(
    resourceIds: readonly string[],
    viewer?: Viewer,
  ): Promise<Record<string, BatchStatusEntry>>;
  list(): Promise<Lock[]>;
  forceRelease(resourceId: string): Promise<Lock | null>;
  /**
   * For save routes: resolves with the lock when `token` is the live lease of `user`'s tab;
   * throws {@link LockNotHeldError} otherwise, also for a token of another user's tab (a token
   * is a lease secret, not an identity). Call it after reading the request body, then write
   * conditionally (`… WHERE version = $loaded AND fence <= $fence`): DESIGN.md, "Saving safely".
   */
  assertHeld(resourceId: string, token: string, user: LockUser): Promise<Lock>;
  /** Whether `user` may take `lock` over, as a status GET computes it (for the event streams). */
  canTakeOver(user: LockUser, lock: Lock): Promise<boolean>;
}

export function toPublicLock(lock: StoredLock): Lock {
  const { resourceId, holder, since, acquiredAt, expiresAt, fence } = lock;
  return { resourceId, holder: shownUser(holder), since, acquiredAt, expiresAt, fence };
}

/**
 * The part of a user everyone may see as a holder. `getUser` often returns the application's
 * whole session user (email, roles, …): none of that is kept in the store or shown to others.
 * Its text is made storable alike for every store: NULs dropped, lone surrogates U+FFFD
 * (Postgres refuses both; Redis would silently store something else).
 */
function shownUser({ id, name, avatarUrl }: LockUser): LockUser {
  const shown = { id: storable(id), name: storable(name) };
  return typeof avatarUrl === 'string' ? { ...shown, avatarUrl: storable(avatarUrl) } : shown;
}

/** Whether `user` is the holder of `lock`, as stored (holder text is made storable). */
export function isHolder(user: LockUser, lock: Lock): boolean {
  return lock.holder.id === storable(user.id);
}

function storable(text: string): string {
  return hasUnstorableText(text) ? storableText(text) : text;
}

/** What a dead token's holder is told (DESIGN.md, the `reason` of a 409). */
export function lostReason(ending: LockEnding | null, liveLock: unknown): LostReason {
  if (ending === 'released' || ending === 'taken-over') return ending;
  return liveLock ? 'expired' : 'edited-meanwhile';
}

export function createLockService(options: LockServiceOptions): LockService {
  const { store } = options;
  if (!store) throw new Error('[page-lock] [service] Missing option "store"');
  const ttl = options.ttl ?? DEFAULT_TTL;
  if (!Number.isFinite(ttl) || ttl <= 0) {
    throw new Error('[page-lock] [service] Option "ttl" must be a positive number of milliseconds');
  }
  const clock = options.now ?? Date.now;
  if (typeof clock !== 'function') {
    throw new Error('[page-lock] [service] Option "now" must be a function returning epoch ms');
  }
  const policy = options.canTakeOver ?? (() => false);
  const feed = options.feed ?? createLocalLockFeed();
  const onFeedError =
    options.onFeedError ??
    ((error: unknown, change: LockChange) =>
      console.error(
        `[page-lock] [service] Could not publish a change of "${change.resourceId}"`,
        error,
      ));
  const authorize = options.authorize;

  // A clock that answers NaN, a Date or a string would make every lease look live or dead at
  // once (two holders): refuse it loudly instead of deciding by it.
  const now = (): number => {
    const value: unknown = clock();
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(
        `[page-lock] [service] Option "now" returned ${describeValue(value)}, not a finite number of epoch ms`,
      );
    }
    return value;
  };

  const emit = (event: LockEvent): void => {
    try {
      const returned: unknown = options.onEvent?.(event);
      // An async hook fits the type too: its rejection, unhandled, would take Node down.
      if (isThenable(returned)) Promise.resolve(returned).catch(() => {});
    } catch {
      // An audit hook must never turn a granted lock into an error.
    }
  };

  // Fire and forget: the lock is decided; the news may lag (polling stays the authority), but it
  // must never turn a grant into an error or wait for another server.
  const publish = (change: LockChange): void => {
    try {
      feed.publish(change).catch((error: unknown) => onFeedError(error, change));
    } catch (error) {
      onFeedError(error, change);
    }
  };

  const call = async <T>(operation: string, at: number, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      // A store's own refusal (busy) keeps its code; anything else is a store failure.
      if (error instanceof PageLockError) throw error;
      throw new LockStoreError(operation, error, at);
    }
  };

  const allowed = async (
    user: LockUser,
    resourceId: string,
    action: LockAction,
  ): Promise<boolean> => (authorize ? (await authorize(user, resourceId, action)) === true : true);

  const requireAllowed = async (
    user: LockUser,
    resourceId: string,
    action: LockAction,
    at: number,
  ): Promise<void> => {
    if (!(await allowed(user, resourceId, action))) {
      throw new LockForbiddenError(resourceId, action, at);
    }
  };

  const canTakeOver = async (user: LockUser, lock: Lock): Promise<boolean> =>
    isHolder(user, lock) || (await policy(user, lock));

  const isSelf = (user: LockUser, lock: Lock | null): boolean =>
    lock !== null && isHolder(user, lock);

  const held = (lock: StoredLock, via: HeldResult['via'], at: number): HeldResult => ({
    status: 'held',
    lock: toPublicLock(lock),
    token: lock.token,
    ttlMs: ttl,
    via,
    now: at,
  });

  const emitExpiredIfLapsed = (replaced: StoredLock | null, at: number): void => {
    if (replaced && replaced.expiresAt <= at) {
      emit({ type: 'expired', resourceId: replaced.resourceId, lock: toPublicLock(replaced), at });
    }
  };

  return {
    ttl,
    feed,
    now,
    canTakeOver: (user, lock) => canTakeOver(user, lock),

    async acquire(resourceId, user, { clientId, token }) {
      const asked = now();
      checkResourceId(resourceId, asked);
      checkUser(user, asked);
      checkId('clientId', clientId, asked);
      if (token !== undefined) checkId('token', token, asked);
      await requireAllowed(user, resourceId, 'acquire', asked);
      const result = await call('acquire', asked, () =>
        store.acquire({
          resourceId,
          holder: shownUser(user),
          clientId,
          token,
          newToken: createLockToken(),
          now: asked,
          ttl,
        }),
      );
      const at = result.now;
      switch (result.outcome) {
        case 'granted':
          emitExpiredIfLapsed(result.replaced, at);
          emit({ type: 'acquired', resourceId, lock: toPublicLock(result.lock), user, at });
          publish({ resourceId, change: 'acquired', lock: toPublicLock(result.lock), at });
          return held(result.lock, 'granted', at);
        case 'resumed':
          // Streams may have shown the lapse: the lease is back.
          publish({ resourceId, change: 'acquired', lock: toPublicLock(result.lock), at });
          emit({ type: 'refreshed', resourceId, lock: toPublicLock(result.lock), user, at });
          return held(result.lock, result.outcome, at);
        case 'refreshed':
        case 'reclaimed':
          emit({ type: 'refreshed', resourceId, lock: toPublicLock(result.lock), user, at });
          return held(result.lock, result.outcome, at);
        case 'locked': {
          const lock = toPublicLock(result.lock);
          emit({ type: 'denied', resourceId, lock, user, action: 'acquire', at });
          return {
            status: 'locked',
            lock,
            isSelf: isSelf(user, lock),
            canTakeOver: await canTakeOver(user, lock),
            ttlMs: ttl,
            now: at,
          };
        }
        case 'dead-token': {
          const lock = result.lock ? toPublicLock(result.lock) : null;
          emit({ type: 'denied', resourceId, lock, user, action: 'refresh', at });
          return {
            status: 'lost',
            reason: lostReason(result.ending, lock),
            lock,
            isSelf: isSelf(user, lock),
            now: at,
          };
        }
      }
    },

    async release(resourceId, token) {
      const asked = now();
      checkResourceId(resourceId, asked);
      checkId('token', token, asked);
      const result = await call('release', asked, () =>
        store.release({ resourceId, token, now: asked }),
      );
      const at = result.now;
      if (result.outcome !== 'released') return { status: result.outcome, now: at };
      const lock = toPublicLock(result.lock);
      emit({ type: 'released', resourceId, lock, by: 'holder', at });
      publish({ resourceId, change: 'released', lock: null, at });
      return { status: 'released', lock, now: at };
    },

    async takeOver(resourceId, user, { clientId, expectedFence }) {
      const asked = now();
      checkResourceId(resourceId, asked);
      checkUser(user, asked);
      checkId('clientId', clientId, asked);
      if (!Number.isSafeInteger(expectedFence) || expectedFence < 0) {
        throw new LockInputError('expectedFence', 'must be a non-negative integer', asked);
      }
      await requireAllowed(user, resourceId, 'takeOver', asked);
      // The fence is checked first: a takeover of a holder the user never saw is a 409, not a 403.
      const current = await call('takeOver', asked, () => store.get(resourceId, { now: asked }));
      if (current && current.fence !== expectedFence) {
        return { status: 'fence-mismatch', lock: toPublicLock(current), now: asked };
      }
      if (current && !(await canTakeOver(user, toPublicLock(current)))) {
        const lock = toPublicLock(current);
        emit({ type: 'denied', resourceId, lock, user, action: 'takeover', at: asked });
        return { status: 'forbidden', lock, now: asked };
      }
      // The store re-checks the fence atomically: if anyone got in since, nothing is granted.
      // Seen free, no policy was asked: a lapsed holder who resumed meanwhile stays (same fence).
      const result = await call('takeOver', asked, () =>
        store.takeOver({
          resourceId,
          holder: shownUser(user),
          clientId,
          expectedFence,
          expectFree: current === null,
          newToken: createLockToken(),
          now: asked,
          ttl,
        }),
      );
      const at = result.now;
      if (result.outcome === 'fence-mismatch') {
        const lock = result.lock ? toPublicLock(result.lock) : null;
        return { status: 'fence-mismatch', lock, now: at };
      }
      const lock = toPublicLock(result.lock);
      if (result.replaced && result.replaced.expiresAt > at) {
        emit({
          type: 'taken-over',
          resourceId,
          lock,
          previous: toPublicLock(result.replaced),
          user,
          at,
        });
        publish({ resourceId, change: 'taken-over', lock, at });
      } else {
        emitExpiredIfLapsed(result.replaced, at);
        emit({ type: 'acquired', resourceId, lock, user, at });
        publish({ resourceId, change: 'acquired', lock, at });
      }
      return held(result.lock, 'taken-over', at);
    },

    async get(resourceId, viewer) {
      const at = now();
      checkResourceId(resourceId, at);
      if (viewer) {
        checkUser(viewer.user, at);
        await requireAllowed(viewer.user, resourceId, 'observe', at);
      }
      const stored = await call('get', at, () => store.get(resourceId, { now: at }));
      if (!stored) return { status: 'free', ttlMs: ttl };
      const lock = toPublicLock(stored);
      const self = viewer !== undefined && isSelf(viewer.user, lock);
      if (self && viewer.clientId !== undefined && stored.clientId === viewer.clientId) {
        return { status: 'held', lock, isSelf: true, canTakeOver: true, ttlMs: ttl };
      }
      return {
        status: 'locked',
        lock,
        isSelf: self,
        canTakeOver: viewer ? await canTakeOver(viewer.user, lock) : false,
        ttlMs: ttl,
      };
    },

    async getMany(resourceIds, viewer) {
      const at = now();
      if (resourceIds.length > MAX_BATCH_IDS) {
        throw new LockInputError('ids', `must name at most ${MAX_BATCH_IDS} resources`, at);
      }
      for (const id of resourceIds) checkResourceId(id, at, 'ids');
      if (viewer) checkUser(viewer.user, at);
      const verdicts = await Promise.all(
        resourceIds.map((id) => (viewer ? allowed(viewer.user, id, 'observe') : true)),
      );
      const visible = resourceIds.filter((_, index) => verdicts[index]);
      const found =
        visible.length === 0
          ? new Map<string, StoredLock>()
          : await call('getMany', at, () => store.getMany(visible, { now: at }));
      // No prototype: an id such as "__proto__" must be an entry, not the object's prototype.
      // Filled in the order asked, whatever was refused.
      const entries: Record<string, BatchStatusEntry> = Object.create(null);
      resourceIds.forEach((id, index) => {
        const stored = found.get(id);
        if (!verdicts[index]) {
          entries[id] = { status: 'forbidden' };
        } else if (!stored) {
          entries[id] = { status: 'free' };
        } else {
          const lock = toPublicLock(stored);
          const self = viewer !== undefined && isSelf(viewer.user, lock);
          entries[id] =
            self && viewer.clientId !== undefined && stored.clientId === viewer.clientId
              ? { status: 'held', lock, isSelf: true }
              : { status: 'locked', lock, isSelf: self };
        }
      });
      return entries;
    },

    async list() {
      const at = now();
      const locks = await call('list', at, () => store.list({ now: at }));
      return locks.map(toPublicLock);
    },

    async forceRelease(resourceId) {
      const at = now();
      checkResourceId(resourceId, at);
      const ended = await call('forceRelease', at, () =>
        store.forceRelease(resourceId, { now: at }),
      );
      if (!ended) return null;
      const lock = toPublicLock(ended);
      emit({ type: 'released', resourceId, lock, by: 'admin', at });
      publish({ resourceId, change: 'force-released', lock: null, at });
      return lock;
    },

    async assertHeld(resourceId, token, user) {
      const asked = now();
      checkResourceId(resourceId, asked);
      checkUser(user, asked);
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_RANDOM_ID_LENGTH) {
        throw new LockNotHeldError(resourceId, 'released', null, asked);
      }
      const result = await call('assertHeld', asked, () =>
        store.check({ resourceId, token, now: asked }),
      );
      const at = result.now;
      switch (result.outcome) {
        case 'live': {
          const lock = toPublicLock(result.lock);
          // Another user's token holds nothing for this user: answered as a token unknown here.
          if (!isSelf(user, lock)) throw new LockNotHeldError(resourceId, 'expired', lock, at);
          return lock;
        }
        case 'lapsed':
          throw new LockNotHeldError(resourceId, 'expired', null, at);
        case 'dead': {
          const lock = result.lock ? toPublicLock(result.lock) : null;
          throw new LockNotHeldError(resourceId, lostReason(result.ending, lock), lock, at);
        }
      }
    },
  };
}

function describeValue(value: unknown): string {
  if (value instanceof Date) return 'a Date';
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function checkResourceId(
  value: unknown,
  now: number,
  field = 'resourceId',
): asserts value is string {
  const problem = resourceIdProblem(value);
  if (problem) throw new LockInputError(field, problem, now);
}

function checkId(field: string, value: unknown, now: number): asserts value is string {
  const problem = randomIdProblem(value);
  if (problem) throw new LockInputError(field, problem, now);
}

function checkUser(user: LockUser, now: number): void {
  if (
    !user ||
    typeof user.id !== 'string' ||
    user.id === '' ||
    typeof user.name !== 'string' ||
    (user.avatarUrl !== undefined && typeof user.avatarUrl !== 'string')
  ) {
    throw new LockInputError('user', 'must be { id: string, name: string } from getUser()', now);
  }
}
