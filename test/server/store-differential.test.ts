import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresLockStore } from '../../server-adapter/postgres';
import { createRedisLockStore } from '../../server-adapter/redis';
import { createSqliteLockStore } from '../../server-adapter/sqlite';
import type { LockStore, StoredLock } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';

/**
 * The memory store applies the shared rules of `lock-rules.ts` directly; Redis mirrors them in
 * Lua, SQLite and Postgres apply them around their own reads and writes. Driven through the same
 * seeded random history (acquire, refresh, reclaim, resume, release, takeover with and without
 * `expectFree`, check, force-release, reads; live, lapsed, dead and made-up tokens; a clock that
 * moves by up to half a lease per step), every store must answer every call exactly alike.
 */

const redisUrl = process.env.PAGE_LOCK_REDIS_URL;
const postgresUrl = process.env.PAGE_LOCK_POSTGRES_URL;
const STEPS = 800;
const TTL = 100;
const SEED = Number(process.env.PAGE_LOCK_DIFF_SEED ?? 20_261_126);

const users: LockUser[] = [
  { id: 'alice', name: 'Alice' },
  { id: 'bob', name: 'Bob', avatarUrl: '/bob.png' },
];
const resourceIds = ['page:1', 'page/2'];
const clientIds = ['tab-1', 'tab-2', 'tab-3'];

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function storesUnderTest(): Promise<Map<string, LockStore>> {
  const stores = new Map<string, LockStore>([
    ['sqlite', createSqliteLockStore({ filename: ':memory:' })],
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
    let now = 1_000_000;
    const disagreements: string[] = [];
    const outcomes = new Set<string>();
    const lastGrant = new Map<string, StoredLock>();

    for (let step = 0; step < STEPS; step++) {
      now += random(TTL / 2);
      const resourceId = pickOf(resourceIds);
      const live = await reference.get(resourceId, { now });
      // Often the last grant's own user, tab and token, live or lapsed (so refreshes, resumes
      // and reclaims happen), else a recent dead token, a made-up one or none.
      const last = lastGrant.get(resourceId);
      const asHolder = last !== undefined && random(3) === 0;
      const holder = asHolder ? last.holder : pickOf(users);
      const clientId = asHolder && random(2) === 0 ? last.clientId : pickOf(clientIds);
      const recent = handedOut.slice(-12);
      const token = [
        asHolder ? last.token : undefined,
        recent.length > 0 ? pickOf(recent) : undefined,
        'made-up',
        undefined,
      ][random(4)];
      const expectedFence = random(4) === 0 ? random(8) : (live?.fence ?? random(8));
      // As if the service had seen the resource free, or not: races make either meet any state.
      const expectFree = random(2) === 0;
      const newToken = `token-${step}`;
      const call = random(7);
      const run = (store: LockStore): Promise<unknown> => {
        switch (call) {
          case 0:
          case 1:
            return store.acquire({ resourceId, holder, clientId, token, newToken, now, ttl: TTL });
          case 2:
            return store.release({ resourceId, token: token ?? 'none', now });
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
            });
          case 4:
            return store.check({ resourceId, token: token ?? 'none', now });
          case 5:
            if (step % 5 === 0) return store.forceRelease(resourceId, { now });
            // list() promises no order.
            return store
              .list({ now })
              .then((locks) => locks.sort((a, b) => a.resourceId.localeCompare(b.resourceId)));
          default:
            return store
              .getMany(resourceIds, { now })
              .then((found) => [...found.entries()].sort(([a], [b]) => a.localeCompare(b)));
        }
      };
      const answer = await run(reference);
      const outcome = (answer as { outcome?: string } | null)?.outcome;
      if (outcome) outcomes.add(`${call === 3 ? 'takeover ' : ''}${outcome}`);
      if (outcome === 'granted') lastGrant.set(resourceId, (answer as { lock: StoredLock }).lock);
      const expected = canonical(answer);
      for (const [name, store] of others) {
        const actual = canonical(await run(store));
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
        'free',
        'not-holder',
        'takeover granted',
        'takeover fence-mismatch',
        'live',
        'lapsed',
        'dead',
      ].sort(),
    );
  }, 60_000);
});
