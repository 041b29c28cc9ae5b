import {
  type BatchStatusEntry,
  hasUnstorableText,
  type Lock,
  type LockAction,
  type LockUser,
  type LostReason,
  MAX_ASK_MESSAGE_LENGTH,
  MAX_BATCH_IDS,
  MAX_QUEUE_LENGTH,
  MAX_RANDOM_ID_LENGTH,
  randomIdProblem,
  resourceIdProblem,
  storableText,
  type Waiter,
} from '../../src/protocol/protocol';
import { createLocalLockFeed } from '../live/local-feed';
import type { LockChange, LockFeed } from '../live/lock-feed';
import { DEFAULT_QUEUE_GRACE } from '../store/lock-rules';
import type { LockEnding, LockStore, StoredLock, StoredWaiter } from '../store/lock-store';
import {
  LockForbiddenError,
  LockInputError,
  LockNotHeldError,
  LockNotSupportedError,
  LockStoreError,
  PageLockError,
} from './errors';
import type { LockEvent } from './events';
import { createLockToken } from './lock-token';

/** 90 s: hidden tabs' timers are throttled to about once a minute and must still meet it. */
export const DEFAULT_TTL = 90_000;
/** 2 minutes: how long a request to the holder stays `pending` before it shows as `lapsed`. */
export const DEFAULT_ASK_TIMEOUT = 120_000;

export interface LockServiceOptions {
  store: LockStore;
  /** Lease length in ms (default 90 000). A waiter's place in line is a lease of this length too. */
  ttl?: number;
  /**
   * How long the first waiter has to take a page that was handed or passed to it, in ms
   * (default 30 000); after that it goes to the next in line.
   */
  queueGrace?: number;
  /** How long a request to the holder stays unanswered before it shows as `lapsed`, in ms (default 120 000). */
  askTimeout?: number;
  /** Whether `user` may take `lock` from another user (default: never). May be async. */
  canTakeOver?: (user: LockUser, lock: Lock) => boolean | Promise<boolean>;
  /** Audit and metrics hook. It runs after the change; what it throws is ignored. */
  onEvent?: (event: LockEvent) => void;
  /**
   * Per-resource authorization (default: allow everything). Asked before the store is touched,
   * for every GET (`observe`), batch GET (`observe`, per id), acquire (`acquire`), takeover
   * (`takeOver`) and ask to edit (`ask`). May be async. A refusal is a 403 naming the action; in a batch GET the refused
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

export interface AskOptions {
  /** The browser tab asking: only it can take the page when it reaches the front. */
  clientId: string;
  /** A note to the holder: trimmed, at most 200 characters; empty is none. */
  message?: string;
  /** `true`: the waiter's poll, keeping its place (and its request as it is). */
  renew?: boolean;
}

export interface AnswerOptions {
  /** The holder's live token. */
  token: string;
  /** The waiter answered (`Waiter.id`). */
  waiterId: string;
  answer: 'hand-over' | 'decline';
}

export interface ReleaseOptions {
  /** `idle`: the holder's tab idled out (`idleTimeout`); the event is `idle-released`. */
  reason?: 'idle';
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
  /** Who waits in line, first first; absent when nobody does. */
  waiters?: Waiter[];
}

export interface LockedResult extends DecidedAt {
  status: 'locked';
  lock: Lock;
  isSelf: boolean;
  canTakeOver: boolean;
  /** How many tabs wait in line; absent when none. */
  waiting?: number;
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

/** `passedTo`: someone waited, and the first in line was granted the page. */
export type ReleaseResult = DecidedAt &
  (
    | { status: 'released'; lock: Lock; passedTo?: Lock }
    | { status: 'free' }
    | { status: 'not-holder' }
  );

/** In line: `place` 1 is next. */
export interface QueuedResult extends DecidedAt {
  status: 'queued';
  /** The lock waited for. */
  lock: Lock;
  place: number;
  /** The asking tab's own place. */
  waiter: Waiter;
  ttlMs: number;
}

export type AskResult =
  | QueuedResult
  /** The page was handed or passed to this tab (or it holds it): reclaimed, under a fresh token. */
  | HeldResult
  /** Nobody holds it and nobody waits: acquire instead. Nothing changed. */
  | (DecidedAt & { status: 'not-locked' })
  /** This user holds it in another tab ("edit here instead"). Nothing changed. */
  | (DecidedAt & { status: 'self'; lock: Lock })
  /** `MAX_QUEUE_LENGTH` tabs wait already. Nothing changed. */
  | (DecidedAt & { status: 'queue-full'; lock: Lock; waiting: number });

export type AnswerResult =
  /** The page is the waiter's (`lock`); the holder's token is dead (`handed-over`). */
  | (DecidedAt & { status: 'handed-over'; lock: Lock })
  /** The waiter is told "still editing" and keeps its place. */
  | (DecidedAt & { status: 'declined'; lock: Lock; waiters: Waiter[] })
  /** The token is not this user's live lease. Nothing changed. */
  | (DecidedAt & { status: 'not-holder'; lock: Lock | null })
  /** Nobody in line has that id (it left, or its place lapsed). Nothing changed. */
  | (DecidedAt & { status: 'not-queued'; lock: Lock });

export type LeaveResult = DecidedAt & { status: 'left' | 'not-queued' };

export type TakeOverResult =
  | HeldResult
  | (DecidedAt & { status: 'fence-mismatch'; lock: Lock | null })
  | (DecidedAt & { status: 'forbidden'; lock: Lock });

export type StatusResult =
  | { status: 'free'; ttlMs: number }
  | {
      status: 'locked';
      lock: Lock;
      isSelf: boolean;
      canTakeOver: boolean;
      /** How many tabs wait in line; absent when none. */
      waiting?: number;
      ttlMs: number;
    }
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
  /** Give the lock back; with waiters, the first is granted the page (`passedTo`). */
  release(resourceId: string, token: string, options?: ReleaseOptions): Promise<ReleaseResult>;
  takeOver(resourceId: string, user: LockUser, options: TakeOverOptions): Promise<TakeOverResult>;
  /**
   * Ask to edit a page someone else holds: join the line (or keep a place, with `renew`), or take
   * the page when it was handed or passed to this tab. `authorize(user, id, 'ask')` first.
   * Throws {@link LockNotSupportedError} when the store has no line.
   */
  ask(resourceId: string, user: LockUser, options: AskOptions): Promise<AskResult>;
  /** The holder (`user`, with its live token) hands the page to a waiter, or declines. */
  answer(resourceId: string, user: LockUser, options: AnswerOptions): Promise<AnswerResult>;
  /**
   * A waiting tab leaves the line. Its `clientId` names the place (it is never shown to anyone);
   * `user`, when given, is checked like any other.
   */
  leave(resourceId: string, user: LockUser | undefined, clientId: string): Promise<LeaveResult>;
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

/**
 * A place in line as the holder and the waiter see it: the shown user, the note when there is
 * one, and a `pending` request past its time as `lapsed`. Never the waiter's tab.
 */
export function toWaiter(waiter: StoredWaiter, now: number): Waiter {
  const { id, user, askedAt, message, request, requestExpiresAt } = waiter;
  const shown: Waiter = { id, user: shownUser(user), askedAt, request, requestExpiresAt };
  if (typeof message === 'string') shown.message = message;
  if (request === 'pending' && requestExpiresAt <= now) shown.request = 'lapsed';
  return shown;
}

/** The live places of `lock`'s line, first first (a departed one is dropped at the next change). */
function liveQueue(lock: StoredLock, now: number): StoredWaiter[] {
  return (lock.queue ?? []).filter((waiter) => waiter.expiresAt > now);
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
  if (ending === 'released' || ending === 'taken-over' || ending === 'handed-over') return ending;
  return liveLock ? 'expired' : 'edited-meanwhile';
}

export function createLockService(options: LockServiceOptions): LockService {
  const { store } = options;
  if (!store) throw new Error('[page-lock] [service] Missing option "store"');
  const ttl = positiveMs('ttl', options.ttl, DEFAULT_TTL);
  const queueGrace = positiveMs('queueGrace', options.queueGrace, DEFAULT_QUEUE_GRACE);
  const askTimeout = positiveMs('askTimeout', options.askTimeout, DEFAULT_ASK_TIMEOUT);
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

  const held = (lock: StoredLock, via: HeldResult['via'], at: number): HeldResult => {
    const waiters = liveQueue(lock, at).map((waiter) => toWaiter(waiter, at));
    const result: HeldResult = {
      status: 'held',
      lock: toPublicLock(lock),
      token: lock.token,
      ttlMs: ttl,
      via,
      now: at,
    };
    if (waiters.length > 0) result.waiters = waiters;
    return result;
  };

  /** `{ waiting }` when someone waits in `lock`'s line, else nothing (spread into an answer). */
  const waitingIn = (lock: StoredLock, at: number): { waiting?: number } => {
    const waiting = liveQueue(lock, at).length;
    return waiting > 0 ? { waiting } : {};
  };

  /** The store's line operation, or a 501 when the store has none. */
  const lineOperation = <Name extends 'ask' | 'answer' | 'leave'>(
    name: Name,
    at: number,
  ): NonNullable<LockStore[Name]> => {
    const operation = store[name];
    if (typeof operation !== 'function') throw new LockNotSupportedError(name, at);
    return operation.bind(store) as NonNullable<LockStore[Name]>;
  };

  /** The lock to show a user whose answer was refused: only one they may observe. */
  const shownTo = async (
    user: LockUser,
    resourceId: string,
    lock: StoredLock | null,
  ): Promise<Lock | null> => {
    if (!lock) return null;
    const shown = toPublicLock(lock);
    return isSelf(user, shown) || (await allowed(user, resourceId, 'observe')) ? shown : null;
  };

  /** A lock as the feed shows it after a change: null once nobody holds it. */
  const afterChange = (lock: StoredLock | null, at: number): Lock | null =>
    lock && lock.expiresAt > at ? toPublicLock(lock) : null;

  // `forceRelease` answers only what it ended: whether the page passed to a waiter is read after.
  // The change stands either way, so a failed read only leaves the news without its lock.
  const passedOn = async (resourceId: string, at: number): Promise<Lock | null> => {
    try {
      return afterChange(await store.get(resourceId, { now: at }), at);
    } catch {
      return null;
    }
  };

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
          queueGrace,
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
            ...waitingIn(result.lock, at),
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

    async release(resourceId, token, releaseOptions) {
      const asked = now();
      checkResourceId(resourceId, asked);
      checkId('token', token, asked);
      const reason = releaseOptions?.reason;
      if (reason !== undefined && reason !== 'idle') {
        throw new LockInputError('reason', 'must be "idle" when given', asked);
      }
      const result = await call('release', asked, () =>
        store.release({ resourceId, token, now: asked, queueGrace }),
      );
      const at = result.now;
      if (result.outcome !== 'released') return { status: result.outcome, now: at };
      const lock = toPublicLock(result.lock);
      const passedTo = result.passedTo ? toPublicLock(result.passedTo) : undefined;
      if (reason === 'idle') emit({ type: 'idle-released', resourceId, lock, at });
      else emit({ type: 'released', resourceId, lock, by: 'holder', at });
      // Waiters learn the page moved on (the first takes it, the others see their new place).
      publish({
        resourceId,
        change: reason === 'idle' ? 'idle-released' : 'released',
        lock: passedTo ?? null,
        at,
      });
      return passedTo
        ? { status: 'released', lock, passedTo, now: at }
        : { status: 'released', lock, now: at };
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
          queueGrace,
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
        ...waitingIn(stored, at),
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
              ? { status: 'held', lock, isSelf: true, ...waitingIn(stored, at) }
              : { status: 'locked', lock, isSelf: self, ...waitingIn(stored, at) };
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
        store.forceRelease(resourceId, { now: at, queueGrace }),
      );
      if (!ended) return null;
      const lock = toPublicLock(ended);
      emit({ type: 'released', resourceId, lock, by: 'admin', at });
      publish({ resourceId, change: 'force-released', lock: await passedOn(resourceId, at), at });
      return lock;
    },

    async ask(resourceId, user, { clientId, message, renew }) {
      const asked = now();
      checkResourceId(resourceId, asked);
      checkUser(user, asked);
      checkId('clientId', clientId, asked);
      const note = askMessage(message, asked);
      if (renew !== undefined && typeof renew !== 'boolean') {
        throw new LockInputError('renew', 'must be true or false', asked);
      }
      const ask = lineOperation('ask', asked);
      await requireAllowed(user, resourceId, 'ask', asked);
      const waiterId = createLockToken();
      const result = await call('ask', asked, () =>
        ask({
          resourceId,
          holder: shownUser(user),
          clientId,
          waiterId,
          message: note,
          renew: renew === true,
          ttl,
          askTimeout,
          newToken: createLockToken(),
          maxQueue: MAX_QUEUE_LENGTH,
          now: asked,
          queueGrace,
        }),
      );
      const at = result.now;
      switch (result.outcome) {
        case 'queued': {
          const lock = toPublicLock(result.lock);
          const { place } = result;
          // A renew is a poll: news only when it made a new place (the old one had lapsed).
          if (renew !== true || result.waiter.id === waiterId) {
            emit({ type: 'asked', resourceId, lock, user, place, at });
            publish({ resourceId, change: 'asked', lock, at });
          }
          const waiter = toWaiter(result.waiter, at);
          return { status: 'queued', lock, place, waiter, ttlMs: ttl, now: at };
        }
        case 'reclaimed':
          // The waiter took the page it was handed: streams may have shown it free meanwhile.
          emit({ type: 'refreshed', resourceId, lock: toPublicLock(result.lock), user, at });
          publish({ resourceId, change: 'acquired', lock: toPublicLock(result.lock), at });
          return held(result.lock, 'reclaimed', at);
        case 'free':
          return { status: 'not-locked', now: at };
        case 'self':
          return { status: 'self', lock: toPublicLock(result.lock), now: at };
        case 'queue-full':
          return {
            status: 'queue-full',
            lock: toPublicLock(result.lock),
            waiting: liveQueue(result.lock, at).length,
            now: at,
          };
      }
    },

    async answer(resourceId, user, { token, waiterId, answer }) {
      const asked = now();
      checkResourceId(resourceId, asked);
      checkUser(user, asked);
      checkId('token', token, asked);
      checkId('waiterId', waiterId, asked);
      if (answer !== 'hand-over' && answer !== 'decline') {
        throw new LockInputError('answer', 'must be "hand-over" or "decline"', asked);
      }
      const answerInLine = lineOperation('answer', asked);
      // Only the holder answers: a token is a lease secret, not an identity, so the session user
      // must hold it too. The token names one grant, so if it is still live when the store
      // answers, the grant is still this user's.
      const checked = await call('answer', asked, () =>
        store.check({ resourceId, token, now: asked }),
      );
      if (checked.outcome !== 'live' || !isHolder(user, checked.lock)) {
        const live = checked.outcome === 'lapsed' ? null : checked.lock;
        return {
          status: 'not-holder',
          lock: await shownTo(user, resourceId, live),
          now: checked.now,
        };
      }
      const result = await call('answer', asked, () =>
        answerInLine({ resourceId, token, waiterId, answer, now: asked, queueGrace }),
      );
      const at = result.now;
      switch (result.outcome) {
        case 'handed-over': {
          const lock = toPublicLock(result.lock);
          const previous = toPublicLock(result.replaced);
          emit({ type: 'handed-over', resourceId, lock, previous, user: lock.holder, at });
          publish({ resourceId, change: 'handed-over', lock, at });
          return { status: 'handed-over', lock, now: at };
        }
        case 'declined': {
          const lock = toPublicLock(result.lock);
          const waiter = result.lock.queue?.find((place) => place.id === waiterId);
          if (waiter) {
            emit({ type: 'declined', resourceId, lock, user: shownUser(waiter.user), at });
          }
          publish({ resourceId, change: 'declined', lock, at });
          const waiters = liveQueue(result.lock, at).map((place) => toWaiter(place, at));
          return { status: 'declined', lock, waiters, now: at };
        }
        case 'not-holder':
          return {
            status: 'not-holder',
            lock: await shownTo(user, resourceId, result.lock),
            now: at,
          };
        case 'not-queued':
          return { status: 'not-queued', lock: toPublicLock(result.lock), now: at };
      }
    },

    async leave(resourceId, user, clientId) {
      const asked = now();
      checkResourceId(resourceId, asked);
      if (user !== undefined) checkUser(user, asked);
      checkId('clientId', clientId, asked);
      const leave = lineOperation('leave', asked);
      const result = await call('leave', asked, () =>
        leave({ resourceId, clientId, now: asked, queueGrace }),
      );
      const at = result.now;
      if (result.outcome === 'left') {
        publish({ resourceId, change: 'left', lock: afterChange(result.lock, at), at });
      }
      return { status: result.outcome, now: at };
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

/** A positive number of ms option, or its default. */
function positiveMs(name: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new Error(
      `[page-lock] [service] Option "${name}" must be a positive number of milliseconds`,
    );
  }
  return ms;
}

/** An ask's note: trimmed, made storable; empty is none, longer than the limit is bad input. */
function askMessage(value: unknown, now: number): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') throw new LockInputError('message', 'must be a string', now);
  const trimmed = value.trim();
  if (trimmed.length > MAX_ASK_MESSAGE_LENGTH) {
    throw new LockInputError(
      'message',
      `must be at most ${MAX_ASK_MESSAGE_LENGTH} characters`,
      now,
    );
  }
  return trimmed === '' ? null : storable(trimmed);
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
