import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresLockStore } from '../../server-adapter/postgres';
import { createRedisLockStore } from '../../server-adapter/redis';
import { createSqliteLockStore } from '../../server-adapter/sqlite';
import type { LockStore, StoredLock } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import { createRecordLockStore, type LockRecord } from '../../server-adapter/store/record-store';
import type { LockUser } from '../../src/protocol/protocol';

/**
 * The memory store applies the shared rules of `lock-rules.ts` directly; Redis mirrors them in
 * Lua, SQLite, Postgres and the record store apply them around their own reads and writes.
 * Driven through the same seeded random history (acquire, refresh, reclaim, resume, release,
 * takeover with and without `expectFree`, check, force-release, reads; the line: asks, renews,
 * answers and leaves, pages passed to waiters and taken or not; live, lapsed, dead, empty and
 * made-up tokens; a clock that moves by up to half a lease per step), every store must answer
 * every call exactly alike.
 */

const redisUrl = process.env.PAGE_LOCK_REDIS_URL;
const postgresUrl = process.env.PAGE_LOCK_POSTGRES_URL;
const STEPS = 2_000;
const TTL = 100;
/** Shorter than a lease, so that a page passed to a waiter lapses on its own clock. */
const QUEUE_GRACE = 60;
const ASK_TIMEOUT = 2 * TTL;
const SEED = Number(process.env.PAGE_LOCK_DIFF_SEED ?? 20_261_126);

const users: LockUser[] = [
  { id: 'alice', name: 'Alice' },
  { id: 'bob', name: 'Bob', avatarUrl: '/bob.png' },
  { id: 'carol', name: 'Carol' },
];
const resourceIds = ['page:1', 'page/2'];
const clientIds = ['tab-1', 'tab-2', 'tab-3', 'tab-4'];
/** A tab that asks and then sleeps: it never keeps its place alive. */
const SLEEPY_TAB = 'tab-4';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function storesUnderTest(): Promise<Map<string, LockStore>> {
  const records = new Map<string, LockRecord>();
  const stores = new Map<string, LockStore>([
    ['sqlite', createSqliteLockStore({ filename: ':memory:' })],
    [
      'record store',
      createRecordLockStore({
        // As a database would: a JSON round trip each way.
        read: (id) => {
          const record = records.get(id);
          return record ? (JSON.parse(JSON.stringify(record)) as LockRecord) : null;
        },
        compareAndSet: (id, expected, next) => {
          if ((records.get(id)?.version ?? null) !== expected) return false;
          records.set(id, JSON.parse(JSON.stringify(next)) as LockRecord);
          return true;
        },
        list: () => records.values(),
      }),
    ],
  ]);
  if (redisUrl) {
    const client = new Redis(redisUrl);
    const prefix = `page-lock-diff:${randomBytes(6).toString('hex')}:`;
    cleanups.push(async () => {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await client.quit();
    });
    stores.set(
      'redis',
      createRedisLockStore({ client, prefix, clock: 'service', warnIfVolatile: false }),
    );
  }
  if (postgresUrl) {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
    pool.on('error', () => {});
    const table = `page_lock_diff_${randomBytes(6).toString('hex')}`;
    const store = createPostgresLockStore({ pool, table, clock: 'service' });
    await store.migrate();
    cleanups.push(async () => {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    });
    stores.set('postgres', store);
  }
  return stores;
}

/** A small deterministic generator, so a failing history can be replayed from its seed. */
function randomFrom(seed: number) {
  let state = seed >>> 0;
  return (below: number): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return Math.floor((state / 2 ** 32) * below);
  };
}

/** JSON with sorted keys: Postgres' jsonb does not keep the order the lock was written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

describe('every store decides exactly like the shared rules', () => {
  it(`answers ${STEPS} random calls like the memory store (seed ${SEED})`, async () => {
    const reference = createMemoryLockStore();
    const others = await storesUnderTest();
    const random = randomFrom(SEED);
    const pickOf = <T>(items: readonly T[]): T => items[random(items.length)] as T;
    const handedOut: string[] = [];
    const waiterIds: string[] = [];
    let now = 1_000_000;
    const disagreements: string[] = [];
    const outcomes = new Set<string>();
    const lastGrant = new Map<string, StoredLock>();
    const queueGrace = QUEUE_GRACE;

    for (let step = 0; step < STEPS; step++) {
      // Calm stretches, where leases and places lapse, and busy ones, where lines form.
      now += random(Math.floor(step / 100) % 2 === 0 ? TTL / 2 : TTL / 20);
      const resourceId = pickOf(resourceIds);
      const live = await reference.get(resourceId, { now });
      // Often the last grant's own user, tab and token, live or lapsed (so refreshes, resumes
      // and reclaims happen), or a waiter's (so pages passed to it are taken), else a recent
      // dead token, an empty one (a passed grant's), a made-up one or none.
      const last = lastGrant.get(resourceId);
      const waiter = live?.queue && random(2) === 0 ? pickOf(live.queue) : undefined;
      const asHolder = last !== undefined && random(3) === 0;
      const as = waiter
        ? { holder: waiter.user, clientId: waiter.clientId }
        : asHolder
          ? { holder: last.holder, clientId: random(2) === 0 ? last.clientId : pickOf(clientIds) }
          : { holder: pickOf(users), clientId: pickOf(clientIds) };
      const { holder, clientId } = as;
      const recent = handedOut.slice(-12);
      const token =
        asHolder && random(2) === 0
          ? last.token
          : [
              recent.length > 0 ? pickOf(recent) : undefined,
              random(4) === 0 ? '' : 'made-up',
              undefined,
            ][random(3)];
      const expectedFence = random(4) === 0 ? random(8) : (live?.fence ?? random(8));
      // As if the service had seen the resource free, or not: races make either meet any state.
      const expectFree = random(2) === 0;
      const newToken = `token-${step}`;
      const waiterId = `waiter-${step}`;
      const askedAbout = live?.queue && random(3) > 0 ? pickOf(live.queue).id : pickOf(waiterIds);
      const renew = random(2) === 0;
      const message = random(3) === 0 ? `note ${step}` : null;
      const maxQueue = random(2) === 0 ? 1 : 3;
      const reply = random(2) === 0 ? 'decline' : 'hand-over';
      // The holder answers (and releases) with its live token often.
      const holdersToken = (random(2) === 0 ? live?.token : token) ?? 'none';
      const checkedToken = (random(2) === 0 ? last?.token : token) ?? 'none';
      // The polls of a real page: the holder keeps its lease (the waiter a page passed to takes
      // it), and a waiter keeps its place, but for the sleepy tab's: its places depart.
      const pollers = live?.queue?.filter((w) => w.clientId !== SLEEPY_TAB) ?? [];
      const poller = pollers.length > 0 ? pickOf(pollers) : undefined;
      const holdersPoll = live
        ? { holder: live.holder, clientId: live.clientId, token: live.token || undefined }
        : { holder, clientId, token };
      const waitersPoll = poller ? { holder: poller.user, clientId: poller.clientId } : as;
      const call = random(16);
      const run = (store: LockStore): Promise<unknown> => {
        switch (call) {
          case 0:
          case 1:
            return store.acquire({
              resourceId,
              holder,
              clientId,
              token,
              newToken,
              now,
              ttl: TTL,
              queueGrace,
            });
          case 2:
            return store.release({ resourceId, token: holdersToken, now, queueGrace });
          case 3:
            return store.takeOver({
              resourceId,
              holder,
              clientId,
              expectedFence,
              expectFree,
              newToken,
              now,
              ttl: TTL,
              queueGrace,
            });
          case 4:
            return store.check({ resourceId, token: checkedToken, now });
          case 5:
            if (step % 5 === 0) return store.forceRelease(resourceId, { now, queueGrace });
            // list() promises no order.
            return store
              .list({ now })
              .then((locks) => locks.sort((a, b) => a.resourceId.localeCompare(b.resourceId)));
          case 6:
            return store
              .getMany(resourceIds, { now })
              .then((found) => [...found.entries()].sort(([a], [b]) => a.localeCompare(b)));
          case 7:
          case 8:
          case 12:
          case 13:
            return lineOf(store).ask({
              resourceId,
              ...(call >= 12 ? waitersPoll : as),
              waiterId,
              message,
              renew: call >= 12 || renew,
              ttl: TTL,
              askTimeout: ASK_TIMEOUT,
              newToken,
              maxQueue,
              queueGrace,
              now,
            });
          case 9:
          case 14:
            return lineOf(store).answer({
              resourceId,
              token: holdersToken,
              waiterId: askedAbout ?? 'nobody',
              answer: reply,
              now,
              queueGrace,
            });
          case 10:
            return lineOf(store).leave({ resourceId, clientId, now, queueGrace });
          default:
            return store.acquire({
              resourceId,
              ...holdersPoll,
              newToken,
              now,
              ttl: TTL,
              queueGrace,
            });
        }
      };
      const answer = await run(reference);
      const outcome = (answer as { outcome?: string } | null)?.outcome;
      if (outcome) outcomes.add(`${callNames[call] ?? ''}${outcome}`);
      const lock = (answer as { lock?: StoredLock } | null)?.lock;
      // A page passed to a waiter is taken by reclaiming; so is a reloaded tab's own grant.
      if (lock && (outcome === 'granted' || outcome === 'reclaimed')) {
        lastGrant.set(resourceId, lock);
      }
      if ((answer as { passedTo?: StoredLock } | null)?.passedTo)
        outcomes.add('released passed on');
      if (outcome === 'queued') waiterIds.push((answer as { waiter: { id: string } }).waiter.id);
      const expected = canonical(answer);
      for (const [name, store] of others) {
        const actual = canonical(await run(store).catch((error: unknown) => `threw ${error}`));
        if (actual !== expected) {
          disagreements.push(`step ${step}, call ${call}, ${name}: ${actual} ≠ ${expected}`);
        }
      }
      handedOut.push(newToken);
    }
    expect(disagreements.slice(0, 3)).toEqual([]);
    // The history reached every answer the rules can give, or agreeing would prove little.
    expect([...outcomes].sort()).toEqual(
      [
        'granted',
        'refreshed',
        'resumed',
        'reclaimed',
        'locked',
        'dead-token',
        'released',
        'released passed on',
        'free',
        'not-holder',
        'takeover granted',
        'takeover fence-mismatch',
        'live',
        'lapsed',
        'dead',
        'ask queued',
        'ask reclaimed',
        'ask free',
        'ask self',
        'ask queue-full',
        'answer handed-over',
        'answer declined',
        'answer not-holder',
        'answer not-queued',
        'leave left',
        'leave not-queued',
      ].sort(),
    );
  }, 120_000);
});

/** How the outcomes of each call are told apart in the coverage list. */
const callNames: Record<number, string> = {
  3: 'takeover ',
  7: 'ask ',
  8: 'ask ',
  9: 'answer ',
  10: 'leave ',
  12: 'ask ',
  13: 'ask ',
  14: 'answer ',
};

/** The store's line operations; a store without them fails its every line call alike. */
function lineOf(store: LockStore): Required<Pick<LockStore, 'ask' | 'answer' | 'leave'>> {
  const missing = (): Promise<never> =>
    Promise.reject(new Error('this store has no ask, answer or leave'));
  return {
    ask: (input) => (store.ask ? store.ask(input) : missing()),
    answer: (input) => (store.answer ? store.answer(input) : missing()),
    leave: (input) => (store.leave ? store.leave(input) : missing()),
  };
}
