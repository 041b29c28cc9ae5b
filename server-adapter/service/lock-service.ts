import {
  type BatchStatusEntry,
  type Lock,
  type LockUser,
  type LostReason,
  MAX_BATCH_IDS,
  MAX_RANDOM_ID_LENGTH,
  randomIdProblem,
  resourceIdProblem,
} from '../../src/core/protocol';
import type { LockEnding, LockStore, StoredLock } from '../store/lock-store';
import { LockInputError, LockNotHeldError, LockStoreError } from './errors';
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
  /** The one clock that decides expiry (invariant 6). Default `Date.now`. */
  now?: () => number;
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

export interface HeldResult {
  status: 'held';
  lock: Lock;
  token: string;
  ttlMs: number;
  /** How the lease came to be held by this call. */
  via: 'granted' | 'refreshed' | 'reclaimed' | 'resumed' | 'taken-over';
}

export interface LockedResult {
  status: 'locked';
  lock: Lock;
  isSelf: boolean;
  canTakeOver: boolean;
  ttlMs: number;
}

export interface LostResult {
  status: 'lost';
  reason: LostReason;
  lock: Lock | null;
}

export type AcquireResult = HeldResult | LockedResult | LostResult;

export type ReleaseResult =
  | { status: 'released'; lock: Lock }
  | { status: 'free' }
  | { status: 'not-holder' };

export type TakeOverResult =
  | HeldResult
  | { status: 'fence-mismatch'; lock: Lock | null }
  | { status: 'forbidden'; lock: Lock };

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
  /** Resolves with the lock when `token` holds it; throws {@link LockNotHeldError} otherwise. */
  assertHeld(resourceId: string, token: string): Promise<Lock>;
}

export function toPublicLock(lock: StoredLock): Lock {
  const { resourceId, holder, since, acquiredAt, expiresAt, fence } = lock;
  return { resourceId, holder: shownUser(holder), since, acquiredAt, expiresAt, fence };
}

/**
 * The part of a user everyone may see as a holder. `getUser` often returns the application's
 * whole session user (email, roles, …): none of that is kept in the store or shown to others.
 */
function shownUser({ id, name, avatarUrl }: LockUser): LockUser {
  return avatarUrl === undefined ? { id, name } : { id, name, avatarUrl };
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
  const now = options.now ?? Date.now;
  const policy = options.canTakeOver ?? (() => false);

  const emit = (event: LockEvent): void => {
    try {
      const returned: unknown = options.onEvent?.(event);
      // An async hook fits the type too: its rejection, unhandled, would take Node down.
      if (isThenable(returned)) Promise.resolve(returned).catch(() => {});
    } catch {
      // An audit hook must never turn a granted lock into an error.
    }
  };

  const call = async <T>(operation: string, at: number, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new LockStoreError(operation, error, at);
    }
  };

  const canTakeOver = async (user: LockUser, lock: Lock): Promise<boolean> =>
    lock.holder.id === user.id || (await policy(user, lock));

  const held = (lock: StoredLock, via: HeldResult['via']): HeldResult => ({
    status: 'held',
    lock: toPublicLock(lock),
    token: lock.token,
    ttlMs: ttl,
    via,
  });

  const emitExpiredIfLapsed = (replaced: StoredLock | null, at: number): void => {
    if (replaced && replaced.expiresAt <= at) {
      emit({ type: 'expired', resourceId: replaced.resourceId, lock: toPublicLock(replaced), at });
    }
  };

  return {
    ttl,
    now,

    async acquire(resourceId, user, { clientId, token }) {
      const at = now();
      checkResourceId(resourceId, at);
      checkUser(user, at);
      checkId('clientId', clientId, at);
      if (token !== undefined) checkId('token', token, at);
      const result = await call('acquire', at, () =>
        store.acquire({
          resourceId,
          holder: shownUser(user),
          clientId,
          token,
          newToken: createLockToken(),
          now: at,
          ttl,
        }),
      );
      switch (result.outcome) {
        case 'granted':
          emitExpiredIfLapsed(result.replaced, at);
          emit({ type: 'acquired', resourceId, lock: toPublicLock(result.lock), user, at });
          return held(result.lock, 'granted');
        case 'refreshed':
        case 'reclaimed':
        case 'resumed':
          emit({ type: 'refreshed', resourceId, lock: toPublicLock(result.lock), user, at });
          return held(result.lock, result.outcome);
        case 'locked': {
          const lock = toPublicLock(result.lock);
          emit({ type: 'denied', resourceId, lock, user, action: 'acquire', at });
          return {
            status: 'locked',
            lock,
            isSelf: lock.holder.id === user.id,
            canTakeOver: await canTakeOver(user, lock),
            ttlMs: ttl,
          };
        }
        case 'dead-token': {
          const lock = result.lock ? toPublicLock(result.lock) : null;
          emit({ type: 'denied', resourceId, lock, user, action: 'refresh', at });
          return { status: 'lost', reason: lostReason(result.ending, lock), lock };
        }
      }
    },

    async release(resourceId, token) {
      const at = now();
      checkResourceId(resourceId, at);
      checkId('token', token, at);
      const result = await call('release', at, () => store.release({ resourceId, token, now: at }));
      if (result.outcome !== 'released') return { status: result.outcome };
      const lock = toPublicLock(result.lock);
      emit({ type: 'released', resourceId, lock, by: 'holder', at });
      return { status: 'released', lock };
    },

    async takeOver(resourceId, user, { clientId, expectedFence }) {
      const at = now();
      checkResourceId(resourceId, at);
      checkUser(user, at);
      checkId('clientId', clientId, at);
      if (!Number.isSafeInteger(expectedFence) || expectedFence < 0) {
        throw new LockInputError('expectedFence', 'must be a non-negative integer', at);
      }
      // The fence is checked first: a takeover of a holder the user never saw is a 409, not a 403.
      const current = await call('takeOver', at, () => store.get(resourceId, { now: at }));
      if (current && current.fence !== expectedFence) {
        return { status: 'fence-mismatch', lock: toPublicLock(current) };
      }
      if (current && !(await canTakeOver(user, toPublicLock(current)))) {
        const lock = toPublicLock(current);
        emit({ type: 'denied', resourceId, lock, user, action: 'takeover', at });
        return { status: 'forbidden', lock };
      }
      // The store re-checks the fence atomically: if anyone got in since, nothing is granted.
      // Seen free, no policy was asked: a lapsed holder who resumed meanwhile stays (same fence).
      const result = await call('takeOver', at, () =>
        store.takeOver({
          resourceId,
          holder: shownUser(user),
          clientId,
          expectedFence,
          expectFree: current === null,
          newToken: createLockToken(),
          now: at,
          ttl,
        }),
      );
      if (result.outcome === 'fence-mismatch') {
        return { status: 'fence-mismatch', lock: result.lock ? toPublicLock(result.lock) : null };
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
      } else {
        emitExpiredIfLapsed(result.replaced, at);
        emit({ type: 'acquired', resourceId, lock, user, at });
      }
      return held(result.lock, 'taken-over');
    },

    async get(resourceId, viewer) {
      const at = now();
      checkResourceId(resourceId, at);
      if (viewer) checkUser(viewer.user, at);
      const stored = await call('get', at, () => store.get(resourceId, { now: at }));
      if (!stored) return { status: 'free', ttlMs: ttl };
      const lock = toPublicLock(stored);
      const isSelf = viewer !== undefined && lock.holder.id === viewer.user.id;
      if (isSelf && viewer.clientId !== undefined && stored.clientId === viewer.clientId) {
        return { status: 'held', lock, isSelf: true, canTakeOver: true, ttlMs: ttl };
      }
      return {
        status: 'locked',
        lock,
        isSelf,
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
      const found = await call('getMany', at, () => store.getMany(resourceIds, { now: at }));
      // No prototype: an id such as "__proto__" must be an entry, not the object's prototype.
      const entries: Record<string, BatchStatusEntry> = Object.create(null);
      for (const id of resourceIds) {
        const stored = found.get(id);
        if (!stored) {
          entries[id] = { status: 'free' };
          continue;
        }
        const lock = toPublicLock(stored);
        const isSelf = viewer !== undefined && lock.holder.id === viewer.user.id;
        entries[id] =
          isSelf && viewer.clientId !== undefined && stored.clientId === viewer.clientId
            ? { status: 'held', lock, isSelf: true }
            : { status: 'locked', lock, isSelf };
      }
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
      return lock;
    },

    async assertHeld(resourceId, token) {
      const at = now();
      checkResourceId(resourceId, at);
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_RANDOM_ID_LENGTH) {
        throw new LockNotHeldError(resourceId, 'released', null, at);
      }
      const result = await call('assertHeld', at, () =>
        store.check({ resourceId, token, now: at }),
      );
      switch (result.outcome) {
        case 'live':
          return toPublicLock(result.lock);
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
  if (!user || typeof user.id !== 'string' || user.id === '' || typeof user.name !== 'string') {
    throw new LockInputError('user', 'must be { id: string, name: string } from getUser()', now);
  }
}
