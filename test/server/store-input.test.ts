import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createLockHandler } from '../../server-adapter/handler/lock-handler';
import { createPostgresLockStore } from '../../server-adapter/postgres';
import { createRedisLockStore } from '../../server-adapter/redis';
import { createLockService } from '../../server-adapter/service/lock-service';
import { createSqliteLockStore } from '../../server-adapter/sqlite';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import { alice, BASE, createHarness, json } from './handler-harness';

/**
 * What a request can carry that a store cannot keep: a NUL (Postgres `text` and `jsonb` refuse
 * it) or a lone UTF-16 surrogate (`jsonb` refuses it, Redis turns it into U+FFFD). Those must be a
 * 400 naming the field on every store, never a 500; and a clock or ttl with a fraction of a
 * millisecond must work on every store.
 */

const redisUrl = process.env.PAGE_LOCK_REDIS_URL;
const postgresUrl = process.env.PAGE_LOCK_POSTGRES_URL;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const stores: [string, () => Promise<LockStore>][] = [
  ['memory', async () => createMemoryLockStore()],
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'page-lock-store-input-'));
      const store = createSqliteLockStore({ filename: join(dir, 'locks.db') });
      cleanups.push(async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      });
      return store;
    },
  ],
];
if (postgresUrl) {
  stores.push([
    'postgres',
    async () => {
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
      pool.on('error', () => {});
      const table = `page_lock_review_${randomBytes(6).toString('hex')}`;
      const store = createPostgresLockStore({ pool, table, clock: 'service' });
      await store.migrate();
      cleanups.push(async () => {
        await pool.query(`DROP TABLE IF EXISTS ${table}`);
        await pool.end();
      });
      return store;
    },
  ]);
}
if (redisUrl) {
  stores.push([
    'redis',
    async () => {
      const client = new Redis(redisUrl);
      const prefix = `page-lock-review:${randomBytes(6).toString('hex')}:`;
      cleanups.push(async () => {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (keys.length > 0) await client.del(...keys);
          cursor = next;
        } while (cursor !== '0');
        await client.quit();
      });
      return createRedisLockStore({ client, prefix, clock: 'service', warnIfVolatile: false });
    },
  ]);
}

describe.each(stores)('%s store: input it cannot keep is a 400, not a 500', (_name, makeStore) => {
  const badInputs = [
    {
      name: 'a NUL in the id',
      path: `${BASE}/page%00one`,
      body: { clientId: 'tab-b' },
      field: 'resourceId',
    },
    {
      name: 'a NUL in clientId',
      path: `${BASE}/page%3A1`,
      body: { clientId: 'tab\u0000b' },
      field: 'clientId',
    },
    {
      name: 'a lone surrogate in clientId',
      path: `${BASE}/page%3A1`,
      body: { clientId: 'tab-\ud800' },
      field: 'clientId',
    },
    {
      name: 'a NUL in a takeover clientId',
      path: `${BASE}/page%3A1/takeover`,
      body: { clientId: '\u0000', expectedFence: 0 },
      field: 'clientId',
    },
  ];

  it.each(badInputs)('$name → 400 "$field", nothing kept', async ({ path, body, field }) => {
    const h = createHarness({ store: await makeStore() });
    const errors: unknown[] = h.errors;
    const response = await h.send('POST', path, { body });
    expect(response.status).toBe(400);
    expect((await json(response)).error).toEqual({
      code: 'bad-request',
      message: expect.stringContaining(`"${field}"`),
    });
    expect(errors).toEqual([]);
    expect(await h.service.list()).toEqual([]);
  });

  it('answers a batch status naming an id with a NUL with 400 "ids"', async () => {
    const h = createHarness({ store: await makeStore() });
    const response = await h.send('GET', `${BASE}?ids=page%3A1&ids=page%00two`);
    expect(response.status).toBe(400);
    expect((await json(response)).error.message).toContain('"ids"');
    expect(h.errors).toEqual([]);
  });

  it('still takes ids and client ids in any script, emoji included', async () => {
    const h = createHarness({ store: await makeStore() });
    const id = 'Seite:Übersicht/日本語/😀';
    const held = await json(await h.acquire(id, alice, 'Tab-ä-😀'));
    expect(held).toMatchObject({ status: 'held', lock: { resourceId: id } });
    const reclaimed = await json(await h.acquire(id, alice, 'Tab-ä-😀'));
    expect(reclaimed).toMatchObject({ status: 'held', lock: { fence: held.lock.fence } });
  });

  it('works with a clock and a ttl that have fractions of a millisecond', async () => {
    let clock = 1_700_000_000_000.25;
    const service = createLockService({ store: await makeStore(), ttl: 1_500.5, now: () => clock });
    const errors: unknown[] = [];
    const handler = createLockHandler({
      service,
      basePath: BASE,
      getUser: () => alice,
      onError: (error) => errors.push(error),
    });
    const acquire = (clientId: string) =>
      handler(
        new Request(`http://admin.test${BASE}/page%3A1`, {
          method: 'POST',
          body: JSON.stringify({ clientId }),
        }),
      );
    const held = await acquire('tab-a');
    expect(errors).toEqual([]);
    expect(held.status).toBe(200);
    expect(await service.list()).toEqual([expect.objectContaining({ expiresAt: clock + 1_500.5 })]);
    clock += 1_500.25;
    expect((await acquire('tab-b')).status).toBe(423);
    clock += 0.5;
    expect((await acquire('tab-b')).status).toBe(200);
  });
});
