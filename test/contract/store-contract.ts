import { MAX_REMEMBERED_ENDINGS } from '../../server-adapter/store/lock-rules';
import type {
  LockStore,
  StoreAcquireResult,
  StoreAnswerResult,
  StoreAskResult,
  StoredLock,
  StoredWaiter,
  StoreTakeOverResult,
} from '../../server-adapter/store/lock-store';
import type { LockUser } from '../../src/protocol/protocol';
import { MAX_QUEUE_LENGTH, MAX_RESOURCE_ID_LENGTH } from '../../src/protocol/protocol';

/**
 * A store as the contract suite drives it: the store itself plus a window onto its backend.
 *
 * @example
 * ```ts
 * runLockStoreContract('my store', async () => {
 *   const db = await openMyDatabase();
 *   return {
 *     store: createMyLockStore({ db }),
 *     countRecords: () => db.count('page_lock'),
 *     reopen: async () => createMyLockStore({ db: await openMyDatabase() }),
 *     cleanup: () => db.drop('page_lock'),
 *   };
 * }, { describe, it, expect, beforeEach, afterEach });
 * ```
 */
export interface StoreUnderTest {
  /** The store the suite calls. The suite closes it (and every reopened one) after each test. */
  store: LockStore;
  /**
   * How many per-resource records (rows, keys) the backend holds, read from the backend itself,
   * not through the store. The suite compares counts before and after, so records that other
   * tests left behind do not matter, as long as nothing else writes while a test runs.
   */
  countRecords(): Promise<number>;
  /**
   * A new store over the same data, as after a new connection or a process restart. Omit it for
   * stores that keep nothing across restarts (the memory store): the restart checks are then
   * skipped (reported as skipped when the framework's test context offers `skip()`).
   */
  reopen?(): Promise<LockStore>;
  /** Runs after each test, once every store was closed: drop the data, end the clients. */
  cleanup?(): Promise<void>;
}

/** The few matchers the suite uses; vitest's and Jest's `expect` both provide them. */
export interface ContractAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeNull(): void;
  toBeGreaterThan(expected: number): void;
  toHaveLength(expected: number): void;
  not: ContractAssertion;
}

/**
 * What a test body may receive from the framework: vitest passes a context with `skip()`.
 * Bodies take it as a rest parameter, so their `length` stays 0 and Jest does not mistake it
 * for a `done` callback.
 */
export interface ContractTestContext {
  skip?: (note?: string) => void;
}

/**
 * The test framework's functions, passed in so the suite runs under vitest, Jest or anything
 * shaped like them: `{ describe, it, expect, beforeEach, afterEach }`.
 */
export interface ContractTestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: (...context: [ContractTestContext?]) => Promise<void>): void;
  expect(actual: unknown): ContractAssertion;
  beforeEach(hook: () => Promise<void> | void): void;
  afterEach(hook: () => Promise<void> | void): void;
}

const TTL = 30_000;
/** How long a request stays pending. */
const ASK_TIMEOUT = 120_000;
/** Shorter than a lease, so that a passed grant is told apart from a granted one. */
const QUEUE_GRACE = 10_000;
const alice: LockUser = { id: 'alice', name: 'Alice', avatarUrl: 'https://example.test/a.png' };
const bob: LockUser = { id: 'bob', name: 'Bob' };
const carol: LockUser = { id: 'carol', name: 'Carol' };
const dave: LockUser = { id: 'dave', name: 'Dave' };

/** A store with the line's operations (they are optional in {@link LockStore}). */
type LineStore = LockStore & Required<Pick<LockStore, 'ask' | 'answer' | 'leave'>>;
type Queued = Extract<StoreAskResult, { outcome: 'queued' }>;

/** `lock` with this line, or none (a lock whose line is empty has no `queue` at all). */
function withLine(lock: StoredLock, queue: StoredWaiter[]): StoredLock {
  const { queue: _line, ...rest } = lock;
  return queue.length > 0 ? { ...rest, queue } : rest;
}

/**
 * The store as the suite drives it. The suite travels in time through the `now` each call
 * carries, so the store must decide by it: a store that normally reads its own clock (Redis,
 * Postgres) runs here with its service-clock option (`clock: 'service'`). Every change must
 * report that `now` as the time it decided at; it is then left out of the answers compared.
 */
function atSuiteClock(store: LockStore, expect: ContractTestApi['expect']): LockStore {
  const decided = async <Result extends { now: number }>(
    given: number,
    answer: Promise<Result>,
  ): Promise<Result> => {
    const { now, ...rest } = await answer;
    expect(now).toBe(given);
    return rest as Result;
  };
  const { ask, answer, leave } = store;
  return {
    ...store,
    acquire: (input) => decided(input.now, store.acquire(input)),
    release: (input) => decided(input.now, store.release(input)),
    takeOver: (input) => decided(input.now, store.takeOver(input)),
    check: (input) => decided(input.now, store.check(input)),
    get: (resourceId, clock) => store.get(resourceId, clock),
    getMany: (resourceIds, clock) => store.getMany(resourceIds, clock),
    list: (clock) => store.list(clock),
    forceRelease: (resourceId, clock) => store.forceRelease(resourceId, clock),
    ask: ask && ((input) => decided(input.now, ask.call(store, input))),
    answer: answer && ((input) => decided(input.now, answer.call(store, input))),
    leave: leave && ((input) => decided(input.now, leave.call(store, input))),
    close: store.close && (() => store.close?.() ?? Promise.resolve()),
  };
}

/**
 * The contract every {@link LockStore} must keep: the invariants of DESIGN.md, checked at the
 * store level with an explicit clock (every call gets `now`, so no fake timers are needed).
 * Each test uses fresh resource ids, so a shared backend (one Redis, one Postgres) is fine.
 * The line's checks (ask to edit) run for a store with `ask`, `answer` and `leave`; a store
 * with none of the three skips them (they are optional), one with only some fails them.
 *
 * @param name - How the store is named in the test report.
 * @param createStore - Makes a fresh {@link StoreUnderTest} before each test.
 * @param api - The test framework's `describe`, `it`, `expect`, `beforeEach`, `afterEach`.
 */
export function runLockStoreContract(
  name: string,
  createStore: () => StoreUnderTest | Promise<StoreUnderTest>,
  api: ContractTestApi,
): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  const runId = Math.random().toString(36).slice(2, 10);
  let sequence = 0;
  let subject: StoreUnderTest;
  let opened: LockStore[] = [];
  let t0 = 0;

  const uniqueId = (label: string): string => `contract-${runId}-${++sequence}:${label}`;
  const newToken = (): string => `token-${runId}-${++sequence}`;
  const tab = (): string => `tab-${runId}-${++sequence}`;
  const store = (): LockStore => atSuiteClock(subject.store, expect);

  const acquire = (
    resourceId: string,
    holder: LockUser,
    clientId: string,
    now: number,
    token?: string,
    on: LockStore = store(),
  ): Promise<StoreAcquireResult> =>
    on.acquire({ resourceId, holder, clientId, token, newToken: newToken(), now, ttl: TTL });

  const takeOver = (
    resourceId: string,
    holder: LockUser,
    clientId: string,
    expectedFence: number,
    now: number,
  ): Promise<StoreTakeOverResult> =>
    store().takeOver({
      resourceId,
      holder,
      clientId,
      expectedFence,
      newToken: newToken(),
      now,
      ttl: TTL,
    });

  /** Acquires and insists on a new grant: the precondition of most tests. */
  const grant = async (
    resourceId: string,
    holder: LockUser,
    clientId: string,
    now: number,
    on: LockStore = store(),
  ): Promise<StoredLock> => {
    const result = await acquire(resourceId, holder, clientId, now, undefined, on);
    expect(result.outcome).toBe('granted');
    if (result.outcome !== 'granted') throw new Error(`expected a grant, got ${result.outcome}`);
    return result.lock;
  };

  const reopen = async ([context]: [ContractTestContext?]): Promise<LockStore | null> => {
    if (!subject.reopen) {
      context?.skip?.('this store keeps nothing across restarts (no reopen)');
      return null;
    }
    const again = await subject.reopen();
    opened.push(again);
    return atSuiteClock(again, expect);
  };

  describe(`${name}: lock store contract`, () => {
    beforeEach(async () => {
      subject = await createStore();
      opened = [subject.store];
      t0 = Date.now();
    });

    afterEach(async () => {
      for (const each of opened) await each.close?.();
      await subject.cleanup?.();
    });

    describe('acquire', () => {
      it('grants a free resource: new fence, since = acquiredAt = now, expiresAt = now + ttl', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const result = await acquire(id, alice, clientId, t0);
        expect(result.outcome).toBe('granted');
        if (result.outcome !== 'granted') return;
        expect(result.replaced).toBeNull();
        expect(result.lock.resourceId).toBe(id);
        expect(result.lock.holder).toEqual(alice);
        expect(result.lock.clientId).toBe(clientId);
        expect(result.lock.fence).toBeGreaterThan(0);
        expect(result.lock.since).toBe(t0);
        expect(result.lock.acquiredAt).toBe(t0);
        expect(result.lock.expiresAt).toBe(t0 + TTL);
        expect(await store().get(id, { now: t0 })).toEqual(result.lock);
      });

      it('hands out the token it was given for the grant', async () => {
        const id = uniqueId('page');
        const token = newToken();
        const result = await store().acquire({
          resourceId: id,
          holder: alice,
          clientId: tab(),
          newToken: token,
          now: t0,
          ttl: TTL,
        });
        expect(result.outcome === 'granted' && result.lock.token).toBe(token);
      });

      it('tells another user the resource is locked, and changes nothing', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const result = await acquire(id, bob, tab(), t0 + 1);
        expect(result).toEqual({ outcome: 'locked', lock: held });
        expect(await store().get(id, { now: t0 + 1 })).toEqual(held);
      });

      it('tells another tab of the same user the resource is locked', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const result = await acquire(id, alice, tab(), t0 + 1);
        expect(result).toEqual({ outcome: 'locked', lock: held });
      });

      it('gives a reloaded holding tab (same user, same clientId) its own lock back under a fresh token', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const token = newToken();
        const result = await store().acquire({
          resourceId: id,
          holder: alice,
          clientId,
          newToken: token,
          now: t0 + 5_000,
          ttl: TTL,
        });
        expect(result).toEqual({
          outcome: 'reclaimed',
          lock: { ...held, token, expiresAt: t0 + 5_000 + TTL },
        });
      });

      it('ends nothing on a late release with the token from before the reload (the pagehide beacon)', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const reclaimed = await acquire(id, alice, clientId, t0 + 1);
        const late = await store().release({ resourceId: id, token: held.token, now: t0 + 2 });
        expect(late).toEqual({ outcome: 'not-holder' });
        expect(await store().get(id, { now: t0 + 3 })).toEqual(reclaimed.lock);
        const stale = await acquire(id, alice, clientId, t0 + 4, held.token);
        expect(stale.outcome).toBe('dead-token');
      });

      it('does not let another user reclaim with the holder’s clientId', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const result = await acquire(id, bob, clientId, t0 + 1);
        expect(result).toEqual({ outcome: 'locked', lock: held });
      });

      it('refreshes a live lease: same fence, token and since, expiresAt moved', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const result = await acquire(id, alice, clientId, t0 + 10_000, held.token);
        expect(result).toEqual({
          outcome: 'refreshed',
          lock: { ...held, expiresAt: t0 + 10_000 + TTL },
        });
        expect(await store().get(id, { now: t0 + TTL + 1 })).toEqual({
          ...held,
          expiresAt: t0 + 10_000 + TTL,
        });
      });

      it('resumes a lapsed lease nobody was granted since: same fence, token and since', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const later = t0 + TTL + 60_000;
        const result = await acquire(id, alice, clientId, later, held.token);
        expect(result).toEqual({ outcome: 'resumed', lock: { ...held, expiresAt: later + TTL } });
      });

      it('refuses to resume once someone else was granted since, even if they left again', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const lapsed = await grant(id, alice, clientId, t0);
        const other = await grant(id, bob, tab(), t0 + TTL);
        await store().release({ resourceId: id, token: other.token, now: t0 + TTL + 1 });
        const result = await acquire(id, alice, clientId, t0 + TTL + 2, lapsed.token);
        expect(result).toEqual({ outcome: 'dead-token', ending: 'expired', lock: null });
        expect(await store().get(id, { now: t0 + TTL + 2 })).toBeNull();
      });

      it('refuses a token that is not the holder’s, and changes nothing', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const byBob = await acquire(id, bob, tab(), t0 + 1, held.token);
        expect(byBob).toEqual({ outcome: 'dead-token', ending: null, lock: held });
        const wrong = await acquire(id, alice, clientId, t0 + 2, newToken());
        expect(wrong).toEqual({ outcome: 'dead-token', ending: null, lock: held });
        expect(await store().get(id, { now: t0 + 3 })).toEqual(held);
      });

      it('refuses a made-up token on a resource never locked, without granting it', async () => {
        const id = uniqueId('page');
        const result = await acquire(id, alice, tab(), t0, newToken());
        expect(result).toEqual({ outcome: 'dead-token', ending: null, lock: null });
        expect(await store().get(id, { now: t0 })).toBeNull();
      });
    });

    describe('dead tokens', () => {
      it('answers a released token with "released", and never refreshes it again', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        await store().release({ resourceId: id, token: held.token, now: t0 + 1 });
        const result = await acquire(id, alice, clientId, t0 + 2, held.token);
        expect(result).toEqual({ outcome: 'dead-token', ending: 'released', lock: null });
        const bobs = await grant(id, bob, tab(), t0 + 3);
        const later = await acquire(id, alice, clientId, t0 + 4, held.token);
        expect(later).toEqual({ outcome: 'dead-token', ending: 'released', lock: bobs });
      });

      it('answers a taken-over token with "taken-over"', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const taken = await takeOver(id, bob, tab(), held.fence, t0 + 1);
        expect(taken.outcome).toBe('granted');
        const result = await acquire(id, alice, clientId, t0 + 2, held.token);
        expect(result).toEqual({
          outcome: 'dead-token',
          ending: 'taken-over',
          lock: taken.outcome === 'granted' ? taken.lock : null,
        });
      });

      it('answers a lapsed token whose resource another got with "expired"', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const bobs = await grant(id, bob, tab(), t0 + TTL);
        const result = await acquire(id, alice, clientId, t0 + TTL + 1, held.token);
        expect(result).toEqual({ outcome: 'dead-token', ending: 'expired', lock: bobs });
      });

      it(`forgets a token after more than ${MAX_REMEMBERED_ENDINGS} later endings`, async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const first = await grant(id, alice, clientId, t0);
        await store().release({ resourceId: id, token: first.token, now: t0 + 1 });
        let now = t0 + 2;
        // The first ending plus MAX − 1 more: still remembered.
        for (let i = 1; i < MAX_REMEMBERED_ENDINGS; i++) {
          const lock = await grant(id, bob, tab(), now++);
          await store().release({ resourceId: id, token: lock.token, now: now++ });
        }
        const remembered = await acquire(id, alice, clientId, now++, first.token);
        expect(remembered).toEqual({ outcome: 'dead-token', ending: 'released', lock: null });
        const lock = await grant(id, bob, tab(), now++);
        await store().release({ resourceId: id, token: lock.token, now: now++ });
        const forgotten = await acquire(id, alice, clientId, now++, first.token);
        expect(forgotten).toEqual({ outcome: 'dead-token', ending: null, lock: null });
      });
    });

    describe('fences', () => {
      it('grow strictly across grant, release, expiry, takeover and force-release', async () => {
        const id = uniqueId('page');
        const fences: number[] = [];
        const first = await grant(id, alice, tab(), t0);
        fences.push(first.fence);
        await store().release({ resourceId: id, token: first.token, now: t0 + 1 });
        const afterRelease = await grant(id, bob, tab(), t0 + 2);
        fences.push(afterRelease.fence);
        const afterExpiry = await grant(id, carol, tab(), t0 + 2 + TTL);
        fences.push(afterExpiry.fence);
        const taken = await takeOver(id, alice, tab(), afterExpiry.fence, t0 + 3 + TTL);
        if (taken.outcome !== 'granted') throw new Error('takeover refused');
        fences.push(taken.lock.fence);
        await store().forceRelease(id, { now: t0 + 4 + TTL });
        const afterForce = await grant(id, bob, tab(), t0 + 5 + TTL);
        fences.push(afterForce.fence);
        for (let i = 1; i < fences.length; i++) {
          expect(fences[i] as number).toBeGreaterThan(fences[i - 1] as number);
        }
      });

      it('are kept by refresh, reclaim and resume', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const refreshed = await acquire(id, alice, clientId, t0 + 1, held.token);
        const reclaimed = await acquire(id, alice, clientId, t0 + 2);
        const fresh = reclaimed.outcome === 'reclaimed' ? reclaimed.lock.token : undefined;
        const resumed = await acquire(id, alice, clientId, t0 + 3 + TTL, fresh);
        expect(
          [refreshed, reclaimed, resumed].map((r) => [r.outcome, r.lock?.fence, r.lock?.since]),
        ).toEqual([
          ['refreshed', held.fence, held.since],
          ['reclaimed', held.fence, held.since],
          ['resumed', held.fence, held.since],
        ]);
        expect(fresh).not.toBe(held.token);
      });

      it('keep growing after a restart (a new store over the same data)', async (...context) => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        await store().release({ resourceId: id, token: held.token, now: t0 + 1 });
        const again = await reopen(context);
        if (!again) return;
        const next = await grant(id, bob, tab(), t0 + 2, again);
        expect(next.fence).toBeGreaterThan(held.fence);
      });

      it('and live leases and endings survive a restart', async (...context) => {
        const id = uniqueId('page');
        const clientId = tab();
        const released = await grant(id, alice, clientId, t0);
        await store().release({ resourceId: id, token: released.token, now: t0 + 1 });
        const held = await grant(id, bob, tab(), t0 + 2);
        const again = await reopen(context);
        if (!again) return;
        expect(await again.get(id, { now: t0 + 3 })).toEqual(held);
        expect(await acquire(id, carol, tab(), t0 + 3, undefined, again)).toEqual({
          outcome: 'locked',
          lock: held,
        });
        const refreshed = await acquire(id, bob, held.clientId, t0 + 4, held.token, again);
        expect(refreshed.outcome).toBe('refreshed');
        const dead = await acquire(id, alice, clientId, t0 + 5, released.token, again);
        expect(dead.outcome === 'dead-token' && dead.ending).toBe('released');
      });
    });

    describe('expiry (no sweeper)', () => {
      it('keeps a lock live until expiresAt, then frees it for the next acquire', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const justBefore = held.expiresAt - 1;
        expect(await store().get(id, { now: justBefore })).toEqual(held);
        expect((await acquire(id, bob, tab(), justBefore)).outcome).toBe('locked');

        const atExpiry = held.expiresAt;
        const result = await acquire(id, bob, tab(), atExpiry);
        expect(result.outcome).toBe('granted');
        if (result.outcome !== 'granted') return;
        expect(result.replaced).toEqual(held);
        expect(result.lock.fence).toBeGreaterThan(held.fence);
        expect(result.lock.since).toBe(atExpiry);
      });

      it('hides an expired lock from get, getMany and list', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const after = { now: held.expiresAt };
        expect(await store().get(id, after)).toBeNull();
        expect((await store().getMany([id], after)).has(id)).toBe(false);
        expect((await store().list(after)).some((lock) => lock.resourceId === id)).toBe(false);
        expect((await store().list({ now: t0 })).filter((l) => l.resourceId === id)).toEqual([
          held,
        ]);
      });
    });

    describe('release', () => {
      it('releases the holder’s lock and frees the resource', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        expect(await store().release({ resourceId: id, token: held.token, now: t0 + 1 })).toEqual({
          outcome: 'released',
          lock: held,
        });
        expect(await store().get(id, { now: t0 + 1 })).toBeNull();
        expect((await acquire(id, bob, tab(), t0 + 2)).outcome).toBe('granted');
      });

      it('releases a lapsed lease by its own token', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const result = await store().release({
          resourceId: id,
          token: held.token,
          now: held.expiresAt + 1,
        });
        expect(result).toEqual({ outcome: 'released', lock: held });
      });

      it('answers "free" when nobody holds the resource, including a second release', async () => {
        const id = uniqueId('page');
        expect(await store().release({ resourceId: id, token: newToken(), now: t0 })).toEqual({
          outcome: 'free',
        });
        const held = await grant(id, alice, tab(), t0);
        await store().release({ resourceId: id, token: held.token, now: t0 + 1 });
        expect(await store().release({ resourceId: id, token: held.token, now: t0 + 2 })).toEqual({
          outcome: 'free',
        });
      });

      it('answers "not-holder" and keeps the lock when someone else holds it', async () => {
        const id = uniqueId('page');
        const lapsed = await grant(id, alice, tab(), t0);
        const held = await grant(id, bob, tab(), t0 + TTL);
        for (const token of [lapsed.token, newToken()]) {
          const result = await store().release({ resourceId: id, token, now: t0 + TTL + 1 });
          expect(result).toEqual({ outcome: 'not-holder' });
        }
        expect(await store().get(id, { now: t0 + TTL + 1 })).toEqual(held);
      });
    });

    describe('takeover', () => {
      it('changes nothing when the fence moved on', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const result = await takeOver(id, bob, tab(), held.fence - 1, t0 + 1);
        expect(result).toEqual({ outcome: 'fence-mismatch', lock: held });
        expect(await store().get(id, { now: t0 + 1 })).toEqual(held);
        expect((await acquire(id, alice, clientId, t0 + 2, held.token)).outcome).toBe('refreshed');
      });

      it('grants another user a new fence and a new since, and kills the old token', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0 - 10_000);
        const bobsTab = tab();
        const result = await takeOver(id, bob, bobsTab, held.fence, t0);
        expect(result.outcome).toBe('granted');
        if (result.outcome !== 'granted') return;
        expect(result.replaced).toEqual(held);
        expect(result.lock).toEqual({
          resourceId: id,
          holder: bob,
          clientId: bobsTab,
          token: result.lock.token,
          fence: result.lock.fence,
          since: t0,
          acquiredAt: t0,
          expiresAt: t0 + TTL,
        });
        expect(result.lock.fence).toBeGreaterThan(held.fence);
        expect(result.lock.token).not.toBe(held.token);
        expect(await store().get(id, { now: t0 })).toEqual(result.lock);
        const check = await store().check({ resourceId: id, token: held.token, now: t0 + 1 });
        expect(check).toEqual({ outcome: 'dead', ending: 'taken-over', lock: result.lock });
      });

      it('keeps since when the same user takes a live lock to another tab ("edit here instead")', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0 - 10_000);
        const result = await takeOver(id, alice, tab(), held.fence, t0);
        expect(result.outcome).toBe('granted');
        if (result.outcome !== 'granted') return;
        expect(result.lock.since).toBe(held.since);
        expect(result.lock.acquiredAt).toBe(t0);
        expect(result.lock.fence).toBeGreaterThan(held.fence);
        expect(result.lock.token).not.toBe(held.token);
      });

      it('starts a new since when the same user’s lock had lapsed', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0 - 2 * TTL);
        const result = await takeOver(id, alice, tab(), held.fence, t0);
        expect(result.outcome === 'granted' && result.lock.since).toBe(t0);
      });

      it('grants a free resource whose fence is still the expected one, and no other', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        await store().release({ resourceId: id, token: held.token, now: t0 + 1 });
        expect(await takeOver(id, bob, tab(), held.fence - 1, t0 + 2)).toEqual({
          outcome: 'fence-mismatch',
          lock: null,
        });
        const result = await takeOver(id, bob, tab(), held.fence, t0 + 3);
        expect(result.outcome).toBe('granted');
        expect(result.outcome === 'granted' && result.replaced).toBeNull();
      });

      it('with expectFree, changes nothing when the expected grant is live again (resumed)', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0 - 2 * TTL);
        // The service saw the resource free (the lease had lapsed) and so asked no policy...
        expect((await acquire(id, alice, clientId, t0, held.token)).outcome).toBe('resumed');
        // ...but the holder resumed before the takeover reached the store: same fence, live.
        const takeOverSeenFree = (now: number) =>
          store().takeOver({
            resourceId: id,
            holder: bob,
            clientId: tab(),
            expectedFence: held.fence,
            expectFree: true,
            newToken: newToken(),
            now,
            ttl: TTL,
          });
        expect(await takeOverSeenFree(t0 + 1)).toEqual({
          outcome: 'fence-mismatch',
          lock: { ...held, expiresAt: t0 + TTL },
        });
        const check = await store().check({ resourceId: id, token: held.token, now: t0 + 2 });
        expect(check.outcome).toBe('live');
        // Once the lease lapsed again, the resource is free and the same takeover is granted.
        const taken = await takeOverSeenFree(t0 + TTL);
        expect(taken.outcome).toBe('granted');
      });

      it('grants at most one of two takeovers that saw the same fence', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const first = await takeOver(id, bob, tab(), held.fence, t0 + 1);
        const second = await takeOver(id, carol, tab(), held.fence, t0 + 2);
        expect(first.outcome).toBe('granted');
        expect(second).toEqual({
          outcome: 'fence-mismatch',
          lock: first.outcome === 'granted' ? first.lock : null,
        });
      });
    });

    describe('check', () => {
      it('says live, lapsed or dead without changing anything', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const check = (token: string, now: number) => store().check({ resourceId: id, token, now });
        expect(await check(held.token, t0 + 1)).toEqual({ outcome: 'live', lock: held });
        expect(await check(held.token, held.expiresAt)).toEqual({ outcome: 'lapsed', lock: held });
        expect(await check(newToken(), t0 + 1)).toEqual({
          outcome: 'dead',
          ending: null,
          lock: held,
        });
        // A check of a lapsed lease must not stop its holder from resuming it.
        expect((await acquire(id, alice, clientId, held.expiresAt + 1, held.token)).outcome).toBe(
          'resumed',
        );
      });

      it('remembers why a dead token ended', async () => {
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        await store().release({ resourceId: id, token: held.token, now: t0 + 1 });
        expect(await store().check({ resourceId: id, token: held.token, now: t0 + 2 })).toEqual({
          outcome: 'dead',
          ending: 'released',
          lock: null,
        });
      });
    });

    describe('forceRelease', () => {
      it('ends a live lock whatever its token, and its token is then "released"', async () => {
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        expect(await store().forceRelease(id, { now: t0 + 1 })).toEqual(held);
        expect(await store().get(id, { now: t0 + 1 })).toBeNull();
        expect(await acquire(id, alice, clientId, t0 + 2, held.token)).toEqual({
          outcome: 'dead-token',
          ending: 'released',
          lock: null,
        });
        const next = await grant(id, bob, tab(), t0 + 3);
        expect(next.fence).toBeGreaterThan(held.fence);
      });

      it('returns null for a free resource, and ends a lapsed lease so it cannot resume: its token is "released"', async () => {
        const id = uniqueId('page');
        expect(await store().forceRelease(id, { now: t0 })).toBeNull();
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        expect(await store().forceRelease(id, { now: held.expiresAt })).toBeNull();
        const result = await acquire(id, alice, clientId, held.expiresAt + 1, held.token);
        expect(result).toEqual({ outcome: 'dead-token', ending: 'released', lock: null });
      });
    });

    describe('reading', () => {
      it('getMany returns the live locks among the ids asked, keyed by id', async () => {
        const [a, b, free] = [uniqueId('a'), uniqueId('b'), uniqueId('free')];
        const lockA = await grant(a, alice, tab(), t0);
        const lockB = await grant(b, bob, tab(), t0);
        const found = await store().getMany([a, b, free], { now: t0 + 1 });
        expect(found.size).toBe(2);
        expect(found.get(a)).toEqual(lockA);
        expect(found.get(b)).toEqual(lockB);
        expect(found.has(free)).toBe(false);
        expect((await store().getMany([], { now: t0 })).size).toBe(0);
      });

      it('never mixes one resource’s clientId and token with another’s', async () => {
        const ids = [uniqueId('one'), uniqueId('two'), uniqueId('three')];
        const users = [alice, bob, alice];
        const locks: StoredLock[] = [];
        for (const [i, id] of ids.entries()) {
          locks.push(await grant(id, users[i] as LockUser, tab(), t0 + i));
        }
        const clock = { now: t0 + 10 };
        const many = await store().getMany(ids, clock);
        const listed = await store().list(clock);
        for (const [i, id] of ids.entries()) {
          expect(await store().get(id, clock)).toEqual(locks[i]);
          expect(many.get(id)).toEqual(locks[i]);
          expect(listed.filter((lock) => lock.resourceId === id)).toEqual([locks[i]]);
        }
        expect(new Set(locks.map((l) => l.token)).size).toBe(3);
        expect(new Set(locks.map((l) => l.clientId)).size).toBe(3);
      });
    });

    describe('resource ids', () => {
      const awkward = (): string[] => {
        const base = uniqueId('x');
        return [
          `${base}/pages/42/edit`,
          `${base}:page:42`,
          `${base}/é日本語🔒`,
          `${base}%2F'"; --`,
          `${base}-`.padEnd(MAX_RESOURCE_ID_LENGTH, 'z'),
          `${base}`,
          `${base}/`,
        ];
      };

      it('work with "/", ":", quotes, unicode and 256 characters, each its own lock', async () => {
        const ids = awkward();
        expect(ids[4]).toHaveLength(MAX_RESOURCE_ID_LENGTH);
        const locks = new Map<string, StoredLock>();
        for (const id of ids) locks.set(id, await grant(id, alice, tab(), t0));
        const clock = { now: t0 + 1 };
        const many = await store().getMany(ids, clock);
        const listed = await store().list(clock);
        for (const id of ids) {
          const lock = locks.get(id) as StoredLock;
          expect(lock.resourceId).toBe(id);
          expect(await store().get(id, clock)).toEqual(lock);
          expect(many.get(id)).toEqual(lock);
          expect(listed.filter((l) => l.resourceId === id)).toEqual([lock]);
        }
        for (const id of ids) {
          const lock = locks.get(id) as StoredLock;
          const released = await store().release({
            resourceId: id,
            token: lock.token,
            now: t0 + 2,
          });
          expect(released.outcome).toBe('released');
          expect(await store().get(id, { now: t0 + 2 })).toBeNull();
        }
      });
    });

    describe('records', () => {
      it('keep exactly one record per resource, however many grants and endings', async () => {
        const before = await subject.countRecords();
        const id = uniqueId('busy');
        let now = t0;
        for (let round = 0; round < 3 * MAX_REMEMBERED_ENDINGS; round++) {
          const clientId = tab();
          const lock = await grant(id, round % 2 ? alice : bob, clientId, now++);
          await acquire(id, lock.holder, clientId, now++, lock.token);
          switch (round % 4) {
            case 0:
              await store().release({ resourceId: id, token: lock.token, now: now++ });
              break;
            case 1: {
              const taken = await takeOver(id, carol, tab(), lock.fence, now++);
              if (taken.outcome === 'granted') {
                await store().release({ resourceId: id, token: taken.lock.token, now: now++ });
              }
              break;
            }
            case 2:
              now += TTL; // expires; the next grant replaces it
              break;
            default:
              await store().forceRelease(id, { now: now++ });
          }
        }
        expect(await subject.countRecords()).toBe(before + 1);
        await grant(uniqueId('other'), alice, tab(), now);
        expect(await subject.countRecords()).toBe(before + 2);
      });

      it('are not created by reads or refused calls on a resource never locked', async () => {
        const before = await subject.countRecords();
        const id = uniqueId('never');
        const clock = { now: t0 };
        await store().get(id, clock);
        await store().getMany([id], clock);
        await store().check({ resourceId: id, token: newToken(), now: t0 });
        await store().release({ resourceId: id, token: newToken(), now: t0 });
        await store().forceRelease(id, clock);
        await acquire(id, alice, tab(), t0, newToken());
        await takeOver(id, alice, tab(), 5, t0);
        expect(await subject.countRecords()).toBe(before);
      });
    });

    describe('concurrent calls', () => {
      it('grant exactly one of many simultaneous acquires of one resource', async () => {
        const id = uniqueId('contended');
        const users = Array.from({ length: 24 }, (_, i) => ({ id: `user-${i}`, name: `U${i}` }));
        const results = await Promise.all(users.map((user) => acquire(id, user, tab(), t0)));
        const granted = results.filter((r) => r.outcome === 'granted');
        expect(granted).toHaveLength(1);
        const winner = granted[0]?.lock as StoredLock;
        for (const result of results) {
          if (result !== granted[0]) expect(result).toEqual({ outcome: 'locked', lock: winner });
        }
        expect(await store().get(id, { now: t0 })).toEqual(winner);
      });

      it('grant exactly one of many simultaneous takeovers that saw the same fence', async () => {
        const id = uniqueId('contended');
        const held = await grant(id, alice, tab(), t0);
        const users = Array.from({ length: 12 }, (_, i) => ({ id: `user-${i}`, name: `U${i}` }));
        const results = await Promise.all(
          users.map((user) => takeOver(id, user, tab(), held.fence, t0 + 1)),
        );
        const granted = results.filter((r) => r.outcome === 'granted');
        expect(granted).toHaveLength(1);
        expect(await store().get(id, { now: t0 + 1 })).toEqual(granted[0]?.lock);
      });

      it('grant exactly one of simultaneous acquires through two connections', async (...context) => {
        const other = await reopen(context);
        if (!other) return;
        const id = uniqueId('contended');
        const users = Array.from({ length: 16 }, (_, i) => ({ id: `user-${i}`, name: `U${i}` }));
        const results = await Promise.all(
          users.map((user, i) => acquire(id, user, tab(), t0, undefined, i % 2 ? other : store())),
        );
        expect(results.filter((r) => r.outcome === 'granted')).toHaveLength(1);
        expect(results.filter((r) => r.outcome === 'locked')).toHaveLength(users.length - 1);
      });

      it('grant every one of simultaneous acquires of different resources', async () => {
        const ids = Array.from({ length: 16 }, (_, i) => uniqueId(`parallel-${i}`));
        const results = await Promise.all(ids.map((id) => acquire(id, alice, tab(), t0)));
        expect(results.every((r) => r.outcome === 'granted')).toBe(true);
        expect(results.map((r, i) => r.lock?.resourceId === ids[i]).every(Boolean)).toBe(true);
      });
    });

    describe('the line (ask to edit)', () => {
      /** The store with its line operations, or null (the test skipped) for a store without. */
      const lineStore = ([context]: [ContractTestContext?]): LineStore | null => {
        const { ask, answer, leave } = subject.store;
        if (!ask && !answer && !leave) {
          context?.skip?.(
            'this store has no ask, answer or leave (optional: the service answers 501)',
          );
          return null;
        }
        // A store with some of the three but not all of them breaks the line: it fails here.
        const line = store();
        expect([typeof line.ask, typeof line.answer, typeof line.leave]).toEqual([
          'function',
          'function',
          'function',
        ]);
        return line as LineStore;
      };

      interface AskOptions {
        renew?: boolean;
        message?: string;
        maxQueue?: number;
        newToken?: string;
      }

      const ask = (
        line: LineStore,
        resourceId: string,
        holder: LockUser,
        clientId: string,
        now: number,
        options: AskOptions = {},
      ): Promise<StoreAskResult> =>
        line.ask({
          resourceId,
          holder,
          clientId,
          waiterId: `waiter-${runId}-${++sequence}`,
          message: options.message ?? null,
          renew: options.renew ?? false,
          ttl: TTL,
          askTimeout: ASK_TIMEOUT,
          newToken: options.newToken ?? newToken(),
          maxQueue: options.maxQueue ?? MAX_QUEUE_LENGTH,
          queueGrace: QUEUE_GRACE,
          now,
        });

      /** Asks and insists on a place in line: the precondition of most tests here. */
      const join = async (...args: Parameters<typeof ask>): Promise<Queued> => {
        const result = await ask(...args);
        expect(result.outcome).toBe('queued');
        if (result.outcome !== 'queued') throw new Error(`expected a place, got ${result.outcome}`);
        return result;
      };

      const acquireIn = (
        resourceId: string,
        holder: LockUser,
        clientId: string,
        now: number,
        token?: string,
        given: string = newToken(),
      ): Promise<StoreAcquireResult> =>
        store().acquire({
          resourceId,
          holder,
          clientId,
          token,
          newToken: given,
          now,
          ttl: TTL,
          queueGrace: QUEUE_GRACE,
        });

      const release = (resourceId: string, token: string, now: number) =>
        store().release({ resourceId, token, now, queueGrace: QUEUE_GRACE });

      const answer = (
        line: LineStore,
        resourceId: string,
        token: string,
        waiterId: string,
        now: number,
        reply: 'hand-over' | 'decline' = 'hand-over',
      ): Promise<StoreAnswerResult> =>
        line.answer({ resourceId, token, waiterId, answer: reply, now, queueGrace: QUEUE_GRACE });

      const leave = (line: LineStore, resourceId: string, clientId: string, now: number) =>
        line.leave({ resourceId, clientId, now, queueGrace: QUEUE_GRACE });

      /** What the line grants its first waiter at `now`: nobody's token, for `queueGrace`. */
      const passedTo = (
        resourceId: string,
        waiter: StoredWaiter,
        fence: number,
        now: number,
        queue: StoredWaiter[] = [],
      ): StoredLock =>
        withLine(
          {
            resourceId,
            holder: waiter.user,
            clientId: waiter.clientId,
            token: '',
            fence,
            since: now,
            acquiredAt: now,
            expiresAt: now + QUEUE_GRACE,
          },
          queue,
        );

      it('queues tabs in the order they asked; a renew keeps the place and changes nothing else', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const [bobsTab, carolsTab] = [tab(), tab()];
        const bobs = await join(line, id, bob, bobsTab, t0 + 1, { message: 'May I fix a typo?' });
        expect(bobs.place).toBe(1);
        expect(bobs.waiter).toEqual({
          id: bobs.waiter.id,
          user: bob,
          clientId: bobsTab,
          askedAt: t0 + 1,
          expiresAt: t0 + 1 + TTL,
          message: 'May I fix a typo?',
          request: 'pending',
          requestExpiresAt: t0 + 1 + ASK_TIMEOUT,
        });
        expect(bobs.lock).toEqual({ ...held, queue: [bobs.waiter] });
        const carols = await join(line, id, carol, carolsTab, t0 + 2);
        expect(carols.place).toBe(2);
        expect(carols.waiter.message).toBeNull();
        expect(carols.lock).toEqual({ ...held, queue: [bobs.waiter, carols.waiter] });

        const renewed = await ask(line, id, bob, bobsTab, t0 + 3, { renew: true, message: 'x' });
        const bobRenewed = { ...bobs.waiter, expiresAt: t0 + 3 + TTL };
        const lineRenewed = { ...held, queue: [bobRenewed, carols.waiter] };
        expect(renewed).toEqual({
          outcome: 'queued',
          lock: lineRenewed,
          waiter: bobRenewed,
          place: 1,
        });
        expect(await line.get(id, { now: t0 + 3 })).toEqual(lineRenewed);

        // Asking again (not a renew) makes the request pending anew, with the new note.
        const again = await join(line, id, bob, bobsTab, t0 + 4, { message: 'Only a minute' });
        const bobAgain: StoredWaiter = {
          ...bobRenewed,
          expiresAt: t0 + 4 + TTL,
          message: 'Only a minute',
          request: 'pending',
          requestExpiresAt: t0 + 4 + ASK_TIMEOUT,
        };
        expect(again).toEqual({
          outcome: 'queued',
          lock: { ...held, queue: [bobAgain, carols.waiter] },
          waiter: bobAgain,
          place: 1,
        });
      });

      it('stays with the lock through its holder’s refreshes; a departed waiter is dropped at the next write', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const refreshed = await acquireIn(id, alice, clientId, t0 + 20_000, held.token);
        expect(refreshed).toEqual({
          outcome: 'refreshed',
          lock: { ...held, expiresAt: t0 + 20_000 + TTL, queue: [bobs.waiter] },
        });
        expect(await line.get(id, { now: t0 + 20_000 })).toEqual(refreshed.lock);
        // Bob's tab stopped renewing: his place lapsed at t0 + 1 + TTL.
        const later = bobs.waiter.expiresAt;
        const again = await acquireIn(id, alice, clientId, later, held.token);
        expect(again).toEqual({ outcome: 'refreshed', lock: { ...held, expiresAt: later + TTL } });
        expect(await line.get(id, { now: later })).toEqual(again.lock);
      });

      it('answers "free" where nobody holds or waits and "self" to the holder’s other tab, creating and changing nothing', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const before = await subject.countRecords();
        const id = uniqueId('page');
        expect(await ask(line, id, bob, tab(), t0)).toEqual({ outcome: 'free' });
        expect(await answer(line, id, newToken(), 'nobody', t0)).toEqual({
          outcome: 'not-holder',
          lock: null,
        });
        expect(await leave(line, id, tab(), t0)).toEqual({ outcome: 'not-queued' });
        expect(await subject.countRecords()).toBe(before);

        const clientId = tab();
        const held = await grant(id, alice, clientId, t0 + 1);
        expect(await ask(line, id, alice, tab(), t0 + 2)).toEqual({ outcome: 'self', lock: held });
        expect(await line.get(id, { now: t0 + 2 })).toEqual(held);
        // Lapsed with nobody waiting: free, and the holder can still resume it.
        expect(await ask(line, id, bob, tab(), held.expiresAt)).toEqual({ outcome: 'free' });
        const resumed = await acquireIn(id, alice, clientId, held.expiresAt + 1, held.token);
        expect(resumed.outcome).toBe('resumed');
        await release(id, held.token, held.expiresAt + 2);
        expect(await ask(line, id, bob, tab(), held.expiresAt + 3)).toEqual({ outcome: 'free' });
      });

      it('refuses one more than maxQueue live places, and departed places do not count', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const max = { maxQueue: 2 };
        const bobs = await join(line, id, bob, tab(), t0 + 1, max);
        const carols = await join(line, id, carol, tab(), t0 + 2, max);
        expect(await ask(line, id, dave, tab(), t0 + 3, max)).toEqual({
          outcome: 'queue-full',
          lock: { ...held, queue: [bobs.waiter, carols.waiter] },
        });
        // A tab in line keeps its place in a full line.
        const renew = { ...max, renew: true };
        expect((await join(line, id, bob, bobs.waiter.clientId, t0 + 4, renew)).place).toBe(1);
        // Once both places lapsed, there is room again.
        await acquireIn(id, alice, clientId, t0 + 20_000, held.token);
        const daves = await join(line, id, dave, tab(), t0 + 4 + TTL, max);
        expect(daves.place).toBe(1);
        expect(daves.lock.queue).toEqual([daves.waiter]);
      });

      it('passes a released page to the first waiter (token "", fence + 1, for queueGrace), whom nobody else can beat to it', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const carols = await join(line, id, carol, tab(), t0 + 2);
        const at = t0 + 3;
        const toBob = passedTo(id, bobs.waiter, held.fence + 1, at, [carols.waiter]);
        expect(await release(id, held.token, at)).toEqual({
          outcome: 'released',
          lock: carols.lock,
          passedTo: toBob,
        });
        expect(await line.get(id, { now: at })).toEqual(toBob);
        // Not another user, not the next in line, not Bob's other tab, not an empty token.
        const locked = { outcome: 'locked', lock: toBob };
        expect(await acquireIn(id, dave, tab(), at + 1)).toEqual(locked);
        expect(await acquireIn(id, carol, carols.waiter.clientId, at + 1)).toEqual(locked);
        expect(await acquireIn(id, bob, tab(), at + 1)).toEqual(locked);
        expect(await acquireIn(id, bob, bobs.waiter.clientId, at + 1, '')).toEqual({
          outcome: 'dead-token',
          ending: null,
          lock: toBob,
        });
        expect(await release(id, '', at + 1)).toEqual({ outcome: 'not-holder' });
        expect(await line.check({ resourceId: id, token: '', now: at + 1 })).toEqual({
          outcome: 'dead',
          ending: null,
          lock: toBob,
        });
        expect(await acquireIn(id, alice, held.clientId, at + 1, held.token)).toEqual({
          outcome: 'dead-token',
          ending: 'released',
          lock: toBob,
        });
        expect(await line.get(id, { now: at + 1 })).toEqual(toBob);

        // Bob's tab takes it with its next ask: same fence and since, its own token and lease.
        const token = newToken();
        expect(
          await ask(line, id, bob, bobs.waiter.clientId, at + 2, { renew: true, newToken: token }),
        ).toEqual({ outcome: 'reclaimed', lock: { ...toBob, token, expiresAt: at + 2 + TTL } });
        const refreshed = await acquireIn(id, bob, bobs.waiter.clientId, at + 3, token);
        expect(refreshed).toEqual({
          outcome: 'refreshed',
          lock: { ...toBob, token, expiresAt: at + 3 + TTL },
        });
      });

      it('lets the waiter’s tab take a passed page by acquiring (a reclaim) too', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        await release(id, held.token, t0 + 2);
        const token = newToken();
        const taken = await acquireIn(id, bob, bobs.waiter.clientId, t0 + 3, undefined, token);
        expect(taken).toEqual({
          outcome: 'reclaimed',
          lock: {
            ...passedTo(id, bobs.waiter, held.fence + 1, t0 + 2),
            token,
            expiresAt: t0 + 3 + TTL,
          },
        });
        expect(await line.get(id, { now: t0 + 3 })).toEqual(taken.lock);
      });

      it('never grants a waiter whose place lapsed, and frees the page when nobody is left', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const carols = await join(line, id, carol, tab(), t0 + 2);
        // Alice and Carol stay; Bob's tab went away (his place lapses at t0 + 1 + TTL).
        await acquireIn(id, alice, clientId, t0 + 20_000, held.token);
        const renew = { renew: true };
        const carolStays = await join(line, id, carol, carols.waiter.clientId, t0 + 20_000, renew);
        const at = bobs.waiter.expiresAt;
        const released = await release(id, held.token, at);
        const toCarol = passedTo(id, carolStays.waiter, held.fence + 1, at);
        expect(released.outcome === 'released' && released.passedTo).toEqual(toCarol);

        // Carol takes it; Dave asks, and his tab goes away too before Carol is done.
        const token = newToken();
        await ask(line, id, carol, carols.waiter.clientId, at + 1, {
          renew: true,
          newToken: token,
        });
        const daves = await join(line, id, dave, tab(), at + 2);
        const carolRefreshed = await acquireIn(
          id,
          carol,
          carols.waiter.clientId,
          at + 20_000,
          token,
        );
        const carolsLock = carolRefreshed.lock as StoredLock;
        expect(carolsLock.queue).toEqual([daves.waiter]);
        const done = daves.waiter.expiresAt;
        expect(await release(id, token, done)).toEqual({ outcome: 'released', lock: carolsLock });
        expect(await line.get(id, { now: done })).toBeNull();
        // Bob's old place is gone for good: his tab gets the page as anyone would, a new fence.
        const bobsGrant = await acquireIn(id, bob, bobs.waiter.clientId, done + 1);
        expect(bobsGrant.outcome).toBe('granted');
        expect(bobsGrant.lock?.fence).toBe(held.fence + 2);
        expect(bobsGrant.lock?.queue).toBe(undefined);
      });

      it('passes a grant its waiter did not take within queueGrace on to the next waiter', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const carols = await join(line, id, carol, tab(), t0 + 2);
        await release(id, held.token, t0 + 3);
        // Bob's tab never came. The next write finds his grant lapsed and passes the page on
        // (reads do not): to Carol, not to whoever acquires.
        const late = t0 + 3 + QUEUE_GRACE;
        const toCarol = passedTo(id, carols.waiter, held.fence + 2, late);
        expect(await acquireIn(id, dave, tab(), late)).toEqual({
          outcome: 'locked',
          lock: toCarol,
        });
        expect(await line.get(id, { now: late })).toEqual(toCarol);
        // Bob's place went with his grant: his late poll joins at the back.
        const bobLate = await join(line, id, bob, bobs.waiter.clientId, late + 1, { renew: true });
        expect([bobLate.place, bobLate.waiter.askedAt]).toEqual([1, late + 1]);
        expect(bobLate.lock).toEqual({ ...toCarol, queue: [bobLate.waiter] });
        const token = newToken();
        const renew = { renew: true, newToken: token };
        expect(await ask(line, id, carol, carols.waiter.clientId, late + 2, renew)).toEqual({
          outcome: 'reclaimed',
          lock: { ...toCarol, queue: [bobLate.waiter], token, expiresAt: late + 2 + TTL },
        });
      });

      it('does not let a lapsed holder resume while someone waits: its page passed on (dead-token, "expired")', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const at = held.expiresAt;
        const toBob = passedTo(id, bobs.waiter, held.fence + 1, at);
        expect(await acquireIn(id, alice, clientId, at, held.token)).toEqual({
          outcome: 'dead-token',
          ending: 'expired',
          lock: toBob,
        });
        expect(await line.check({ resourceId: id, token: held.token, now: at + 1 })).toEqual({
          outcome: 'dead',
          ending: 'expired',
          lock: toBob,
        });
        // Nor by reloading.
        expect(await acquireIn(id, alice, clientId, at + 2)).toEqual({
          outcome: 'locked',
          lock: toBob,
        });
      });

      it('hands over to exactly the waiter named, ending the holder’s token as "handed-over"', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const carols = await join(line, id, carol, tab(), t0 + 2);
        const at = t0 + 3;
        const toCarol = passedTo(id, carols.waiter, held.fence + 1, at, [bobs.waiter]);
        expect(await answer(line, id, held.token, carols.waiter.id, at)).toEqual({
          outcome: 'handed-over',
          lock: toCarol,
          replaced: carols.lock,
        });
        expect(await line.get(id, { now: at })).toEqual(toCarol);
        const dead = { outcome: 'dead-token', ending: 'handed-over', lock: toCarol };
        expect(await acquireIn(id, alice, clientId, at + 1, held.token)).toEqual(dead);
        expect(await line.check({ resourceId: id, token: held.token, now: at + 1 })).toEqual({
          outcome: 'dead',
          ending: 'handed-over',
          lock: toCarol,
        });
        // Bob, first in line, cannot take it; Carol's tab can.
        expect(await acquireIn(id, bob, bobs.waiter.clientId, at + 1)).toEqual({
          outcome: 'locked',
          lock: toCarol,
        });
        const token = newToken();
        const taken = await acquireIn(id, carol, carols.waiter.clientId, at + 2, undefined, token);
        expect(taken).toEqual({
          outcome: 'reclaimed',
          lock: { ...toCarol, token, expiresAt: at + 2 + TTL },
        });
        expect(
          (await join(line, id, bob, bobs.waiter.clientId, at + 3, { renew: true })).place,
        ).toBe(1);
      });

      it('declines a request: the waiter keeps its place, marked declined, until it asks again', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const carols = await join(line, id, carol, tab(), t0 + 2);
        const declined = await answer(line, id, held.token, bobs.waiter.id, t0 + 3, 'decline');
        const bobDeclined: StoredWaiter = { ...bobs.waiter, request: 'declined' };
        expect(declined).toEqual({
          outcome: 'declined',
          lock: { ...held, queue: [bobDeclined, carols.waiter] },
        });
        expect(await line.get(id, { now: t0 + 3 })).toEqual(declined.lock);
        const bobsTab = bobs.waiter.clientId;
        const renewed = await join(line, id, bob, bobsTab, t0 + 4, { renew: true });
        expect([renewed.place, renewed.waiter]).toEqual([
          1,
          { ...bobDeclined, expiresAt: t0 + 4 + TTL },
        ]);
        const again = await join(line, id, bob, bobsTab, t0 + 5, { message: 'Please' });
        expect(again.waiter).toEqual({
          ...bobDeclined,
          expiresAt: t0 + 5 + TTL,
          message: 'Please',
          request: 'pending',
          requestExpiresAt: t0 + 5 + ASK_TIMEOUT,
        });
        // The holder keeps the page all along.
        expect((await acquireIn(id, alice, clientId, t0 + 6, held.token)).outcome).toBe(
          'refreshed',
        );
      });

      it('answers "not-holder" to a wrong, passed, old or lapsed token and changes nothing', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        for (const [token, reply] of [
          [newToken(), 'hand-over'],
          ['', 'decline'],
        ] as const) {
          expect(await answer(line, id, token, bobs.waiter.id, t0 + 2, reply)).toEqual({
            outcome: 'not-holder',
            lock: bobs.lock,
          });
        }
        expect(await line.get(id, { now: t0 + 2 })).toEqual(bobs.lock);
        // Passed to Bob: neither Alice's old token nor the passed grant's '' answers for it.
        await release(id, held.token, t0 + 3);
        const carols = await join(line, id, carol, tab(), t0 + 4);
        const toBob = passedTo(id, bobs.waiter, held.fence + 1, t0 + 3, [carols.waiter]);
        expect(carols.lock).toEqual(toBob);
        for (const token of [held.token, '']) {
          expect(await answer(line, id, token, carols.waiter.id, t0 + 5)).toEqual({
            outcome: 'not-holder',
            lock: toBob,
          });
        }
        expect(await line.get(id, { now: t0 + 5 })).toEqual(toBob);
        // A lapsed holder with nobody waiting is no holder either.
        const other = uniqueId('page');
        const lapsed = await grant(other, alice, tab(), t0);
        expect(await answer(line, other, lapsed.token, 'nobody', lapsed.expiresAt)).toEqual({
          outcome: 'not-holder',
          lock: null,
        });
      });

      it('answers "not-queued" for a waiter that is not (or no longer) in line', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        expect(await answer(line, id, held.token, 'nobody', t0 + 2)).toEqual({
          outcome: 'not-queued',
          lock: bobs.lock,
        });
        // Bob's place lapsed: his id is unknown now, and the line is written without him.
        await acquireIn(id, alice, clientId, t0 + 20_000, held.token);
        const at = bobs.waiter.expiresAt;
        const settled = { ...held, expiresAt: t0 + 20_000 + TTL };
        expect(await answer(line, id, held.token, bobs.waiter.id, at)).toEqual({
          outcome: 'not-queued',
          lock: settled,
        });
        expect(await line.get(id, { now: at })).toEqual(settled);
      });

      it('lets a waiting tab leave: the others keep their order and the page passes over it', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const carols = await join(line, id, carol, tab(), t0 + 2);
        const daves = await join(line, id, dave, tab(), t0 + 3);
        const left = await leave(line, id, carols.waiter.clientId, t0 + 4);
        const without = { ...held, queue: [bobs.waiter, daves.waiter] };
        expect(left).toEqual({ outcome: 'left', lock: without });
        expect(await leave(line, id, carols.waiter.clientId, t0 + 5)).toEqual({
          outcome: 'not-queued',
        });
        expect(await leave(line, id, held.clientId, t0 + 5)).toEqual({ outcome: 'not-queued' });
        expect(await line.get(id, { now: t0 + 5 })).toEqual(without);
        await leave(line, id, bobs.waiter.clientId, t0 + 6);
        const released = await release(id, held.token, t0 + 7);
        expect(released.outcome === 'released' && released.passedTo).toEqual(
          passedTo(id, daves.waiter, held.fence + 1, t0 + 7),
        );
      });

      it('lets a takeover jump the line: the others keep their places, the taker’s tab loses its own', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const carols = await join(line, id, carol, tab(), t0 + 2);
        const daves = await join(line, id, dave, tab(), t0 + 3);
        const token = newToken();
        const taken = await store().takeOver({
          resourceId: id,
          holder: carol,
          clientId: carols.waiter.clientId,
          expectedFence: held.fence,
          newToken: token,
          now: t0 + 4,
          ttl: TTL,
          queueGrace: QUEUE_GRACE,
        });
        expect(taken).toEqual({
          outcome: 'granted',
          lock: {
            resourceId: id,
            holder: carol,
            clientId: carols.waiter.clientId,
            token,
            fence: held.fence + 1,
            since: t0 + 4,
            acquiredAt: t0 + 4,
            expiresAt: t0 + 4 + TTL,
            queue: [bobs.waiter, daves.waiter],
          },
          replaced: daves.lock,
        });
        // When Carol is done, the page passes to Bob, who waited first.
        const released = await release(id, token, t0 + 5);
        expect(released.outcome === 'released' && released.passedTo).toEqual(
          passedTo(id, bobs.waiter, held.fence + 2, t0 + 5, [daves.waiter]),
        );
      });

      it('passes a force-released page on to the first waiter', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const clientId = tab();
        const held = await grant(id, alice, clientId, t0);
        const bobs = await join(line, id, bob, tab(), t0 + 1);
        const ended = await store().forceRelease(id, { now: t0 + 2, queueGrace: QUEUE_GRACE });
        expect(ended).toEqual(bobs.lock);
        const toBob = passedTo(id, bobs.waiter, held.fence + 1, t0 + 2);
        expect(await line.get(id, { now: t0 + 2 })).toEqual(toBob);
        expect(await acquireIn(id, alice, clientId, t0 + 3, held.token)).toEqual({
          outcome: 'dead-token',
          ending: 'released',
          lock: toBob,
        });
      });

      it('gives simultaneous asks (through two connections where there are two) one place each', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const lines = [line];
        if (subject.reopen) {
          const again = await subject.reopen();
          opened.push(again);
          lines.push(atSuiteClock(again, expect) as LineStore);
        }
        const id = uniqueId('contended');
        const held = await grant(id, alice, tab(), t0);
        const users = Array.from({ length: 12 }, (_, i) => ({ id: `user-${i}`, name: `U${i}` }));
        const results = await Promise.all(
          users.map((user, i) =>
            join(lines[i % lines.length] as LineStore, id, user, tab(), t0 + 1),
          ),
        );
        const byPlace = [...results].sort((a, b) => a.place - b.place);
        expect(byPlace.map((r) => r.place)).toEqual(users.map((_, i) => i + 1));
        const lock = await line.get(id, { now: t0 + 1 });
        expect(lock?.queue).toEqual(byPlace.map((r) => r.waiter));
        // The page passes in that order.
        const released = await release(id, held.token, t0 + 2);
        expect(released.outcome === 'released' && released.passedTo?.clientId).toBe(
          byPlace[0]?.waiter.clientId,
        );
      });

      it('survives a restart, with its order', async (...context) => {
        const line = lineStore(context);
        if (!line) return;
        const id = uniqueId('page');
        const held = await grant(id, alice, tab(), t0);
        await join(line, id, bob, tab(), t0 + 1);
        const carols = await join(line, id, carol, tab(), t0 + 2);
        const again = await reopen(context);
        if (!again) return;
        expect(await again.get(id, { now: t0 + 3 })).toEqual(carols.lock);
        const released = await again.release({
          resourceId: id,
          token: held.token,
          now: t0 + 4,
          queueGrace: QUEUE_GRACE,
        });
        expect(released.outcome === 'released' && released.passedTo?.holder).toEqual(bob);
      });
    });
  });
}
