import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createLockService, type LockService } from '../../server-adapter';
import { createPostgresLockStore } from '../../server-adapter/postgres';
import { createRedisLockStore } from '../../server-adapter/redis';
import type { LockStore } from '../../server-adapter/store/lock-store';
import type { LockUser } from '../../src/protocol/protocol';

/**
 * Two server instances share one Redis or one Postgres, and their clocks disagree by 2 s
 * (DESIGN invariant 6, issue 9 item 3). By the store's own clock (the default) neither instance's
 * clock matters: Bob, on the instance ahead, is never granted the page while Alice's lease is
 * live, and Alice's on-time refresh, on the instance behind, is never refused. The same with
 * `clock: 'service'` shows what the test would catch. A clock that is not a number of ms is an
 * error on every call, and grants nothing.
 */

const redisUrl = process.env.PAGE_LOCK_REDIS_URL;
const postgresUrl = process.env.PAGE_LOCK_POSTGRES_URL;

const SKEW = 2_000;
const TTL = 3_000;
const alice: LockUser = { id: 'alice', name: 'Alice' };
const bob: LockUser = { id: 'bob', name: 'Bob' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One shared store, opened once per instance (each with its own client or pool). */
interface SharedStore {
  open(clock?: 'store' | 'service'): Promise<LockStore>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sharedRedis(url: string): SharedStore {
  const prefix = `page-lock-skew:${randomBytes(6).toString('hex')}:`;
  const admin = new Redis(url);
  cleanups.push(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await admin.quit();
  });
  return {
    async open(clock) {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      cleanups.push(() => client.quit());
      return createRedisLockStore({ client, prefix, clock, warnIfVolatile: false });
    },
  };
}

function sharedPostgres(url: string): SharedStore {
  const table = `page_lock_skew_${randomBytes(6).toString('hex')}`;
  let migrated: Promise<void> | null = null;
  const newPool = (): pg.Pool => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => {});
    return pool;
  };
  const admin = newPool();
  cleanups.push(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });
  return {
    async open(clock) {
      migrated ??= createPostgresLockStore({ pool: admin, table }).migrate();
      await migrated;
      const pool = newPool();
      cleanups.push(() => pool.end());
      return createPostgresLockStore({ pool, table, clock });
    },
  };
}

/** An instance whose clock is `offset` ms off the machine's. */
async function instance(
  shared: SharedStore,
  offset: number,
  clock?: 'store' | 'service',
): Promise<LockService> {
  return createLockService({
    store: await shared.open(clock),
    ttl: TTL,
    now: () => Date.now() + offset,
  });
}

/**
 * Alice holds the page through `aliceOn`, refreshing on time (every second, by real time, well
 * within the 3 s lease); Bob asks for it through `bobOn` every 100 ms for 4 s, well past Alice's
 * first lease. Returns what each was answered.
 */
async function contend(resourceId: string, aliceOn: LockService, bobOn: LockService) {
  const started = Date.now();
  const first = await aliceOn.acquire(resourceId, alice, { clientId: 'tab-alice' });
  if (first.status !== 'held') throw new Error(`Alice was not granted ${resourceId}`);
  const bobAnswers: string[] = [];
  const aliceAnswers: string[] = [];
  const decidedNows: number[] = [first.now];
  const leases: number[] = [first.lock.expiresAt - first.now];

  const bobAsks = (async () => {
    while (Date.now() - started < 4_000) {
      const answer = await bobOn.acquire(resourceId, bob, { clientId: 'tab-bob' });
      bobAnswers.push(answer.status);
      decidedNows.push(answer.now);
      const seen = await bobOn.get(resourceId, { user: bob });
      bobAnswers.push(`get ${seen.status}`);
      await sleep(100);
    }
  })();
  const aliceRefreshes = (async () => {
    for (let turn = 1; turn <= 4; turn++) {
      await sleep(started + turn * 1_000 - Date.now());
      const answer = await aliceOn.acquire(resourceId, alice, {
        clientId: 'tab-alice',
        token: first.token,
      });
      aliceAnswers.push(answer.status === 'held' ? answer.via : answer.status);
      decidedNows.push(answer.now);
      if (answer.status === 'held') leases.push(answer.lock.expiresAt - answer.now);
    }
  })();
  await Promise.all([bobAsks, aliceRefreshes]);

  // Alice leaves: now, and only now, Bob gets it, with the next fence.
  await aliceOn.release(resourceId, first.token);
  const after = await bobOn.acquire(resourceId, bob, { clientId: 'tab-bob' });
  return { first, bobAnswers, aliceAnswers, decidedNows, leases, after };
}

function skewSuite(name: string, shared: () => SharedStore) {
  describe(`${name}: two instances whose clocks are ${SKEW / 1000} s apart`, () => {
    it('never grants Bob (on the instance ahead) the page while Alice holds it, and never refuses her on-time refresh, either way round', async () => {
      const store = shared();
      const behind = await instance(store, 0);
      const ahead = await instance(store, SKEW);
      const behind2 = await instance(store, 0);
      const ahead2 = await instance(store, SKEW);
      const [aliceBehind, aliceAhead] = await Promise.all([
        contend('page:alice-behind', behind, ahead),
        contend('page:alice-ahead', ahead2, behind2),
      ]);
      for (const run of [aliceBehind, aliceAhead]) {
        expect(new Set(run.bobAnswers)).toEqual(new Set(['locked', 'get locked']));
        expect(run.bobAnswers.length).toBeGreaterThan(40);
        expect(run.aliceAnswers).toEqual(['refreshed', 'refreshed', 'refreshed', 'refreshed']);
        // Every lease is the full ttl on the store's clock, whichever instance asked.
        expect(new Set(run.leases)).toEqual(new Set([TTL]));
        // Every answer carries the store's clock, not the instance's.
        for (const now of run.decidedNows) expect(Math.abs(now - Date.now())).toBeLessThan(6_000);
        expect(run.decidedNows.every((now) => now < Date.now() + 500)).toBe(true);
        expect(run.after.status === 'held' && run.after.lock.fence).toBe(run.first.lock.fence + 1);
      }
    }, 20_000);

    it("would overlap by the service's clock (clock: 'service'): what the test above guards against", async () => {
      const store = shared();
      const aliceOn = await instance(store, 0, 'service');
      const bobOn = await instance(store, SKEW, 'service');
      const started = Date.now();
      const held = await aliceOn.acquire('page:by-service', alice, { clientId: 'tab-alice' });
      if (held.status !== 'held') throw new Error('expected a grant');
      let bobHeldAt: number | null = null;
      while (Date.now() - started < TTL) {
        const answer = await bobOn.acquire('page:by-service', bob, { clientId: 'tab-bob' });
        if (answer.status === 'held') {
          bobHeldAt = Date.now();
          break;
        }
        await sleep(50);
      }
      // Bob got it about 1 s in, while Alice's lease had about 2 s left by real time.
      expect(bobHeldAt).not.toBeNull();
      expect((bobHeldAt as number) - started).toBeLessThan(TTL - 1_000);
    }, 10_000);

    it('answers every call with an error and grants nothing when a clock is NaN or a Date', async () => {
      const store = shared();
      const good = await instance(store, 0);
      const held = await good.acquire('page:held', alice, { clientId: 'tab-alice' });
      if (held.status !== 'held') throw new Error('expected a grant');
      const badClocks: (() => number)[] = [() => Number.NaN, () => new Date() as unknown as number];
      for (const now of badClocks) {
        const bad = createLockService({ store: await store.open(), ttl: TTL, now });
        const calls: [string, () => Promise<unknown>][] = [
          ['acquire', () => bad.acquire('page:free', bob, { clientId: 'tab-bob' })],
          ['acquire held', () => bad.acquire('page:held', bob, { clientId: 'tab-bob' })],
          [
            'refresh',
            () => bad.acquire('page:held', alice, { clientId: 'tab-alice', token: held.token }),
          ],
          [
            'takeOver',
            () => bad.takeOver('page:held', alice, { clientId: 'tab-2', expectedFence: 1 }),
          ],
          [
            'takeOver free',
            () => bad.takeOver('page:free', bob, { clientId: 'tab-bob', expectedFence: 0 }),
          ],
          ['release', () => bad.release('page:held', held.token)],
          ['get', () => bad.get('page:held')],
          ['getMany', () => bad.getMany(['page:held', 'page:free'])],
          ['assertHeld', () => bad.assertHeld('page:held', held.token, alice)],
        ];
        for (const [what, call] of calls) {
          await expect(call(), what).rejects.toThrow(
            /^\[page-lock\] \[service\] Option "now" returned .*, not a finite number of epoch ms$/,
          );
        }
      }
      // Nothing changed: Alice still holds her page with her fence, the free page is still free.
      const still = await good.get('page:held');
      expect(still.status === 'locked' && still.lock).toEqual(held.lock);
      expect((await good.get('page:free')).status).toBe('free');
      const mine = await good.acquire('page:held', alice, {
        clientId: 'tab-alice',
        token: held.token,
      });
      expect(mine.status === 'held' && mine.via).toBe('refreshed');
    });
  });
}

if (!redisUrl) {
  it.skip('Clock skew on Redis: set PAGE_LOCK_REDIS_URL=redis://127.0.0.1:6379 to run these tests');
} else {
  skewSuite('Redis', () => sharedRedis(redisUrl));
}

if (!postgresUrl) {
  it.skip(
    'Clock skew on Postgres: set PAGE_LOCK_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run these tests',
  );
} else {
  skewSuite('Postgres', () => sharedPostgres(postgresUrl));
}
