/**
 * Refreshes against their raw anchors (issue 14): a holder keeps many leases alive, one refresh
 * after another, through page-lock (the service over a store, or the Web handler) and through the
 * least a lock server could do on the same backend (one prepared conditional upsert, one
 * `UPDATE … RETURNING`, one `EVALSHA` compare-and-set, a bare `Request → json() → Response.json()`
 * shell around the upsert). Each pair runs in the same process on the same kind of data, rounds
 * alternating, best round kept; the ratio is what matters, the absolute numbers only read it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  createLockHandler,
  createLockService,
  type LockService,
  type LockStore,
} from '../server-adapter';

const user = { id: 'u1', name: 'Bench' };
/** Leases kept alive at once: refreshes go round them. */
const RESOURCES = 200;
const TTL = 600_000;

export interface RefreshRow {
  name: string;
  ours: number;
  anchorName: string;
  anchor: number;
}

/** One operation; the bench calls it one after another. */
type Op = (i: number) => Promise<unknown>;

/** Operations per second over `ms` of one after another. */
async function rate(op: Op, ms: number): Promise<number> {
  // Warm up (JIT, statement caches, pooled connections) before the clock starts.
  for (let i = 0; i < 50; i++) await op(i);
  const started = performance.now();
  let done = 0;
  while (performance.now() - started < ms) {
    for (let k = 0; k < 20; k++) await op(done++);
  }
  return done / ((performance.now() - started) / 1000);
}

/** Best of `rounds`, ours and the anchor alternating so drift hits each alike. */
async function pair(ours: Op, anchor: Op, rounds: number, ms: number): Promise<[number, number]> {
  let best: [number, number] = [0, 0];
  for (let round = 0; round < rounds; round++) {
    const a = await rate(anchor, ms);
    const o = await rate(ours, ms);
    best = [Math.max(best[0], o), Math.max(best[1], a)];
  }
  return best;
}

/** Acquires a lease on each resource; the op refreshes them round-robin through the service. */
async function serviceRefresh(store: LockStore): Promise<{ op: Op; service: LockService }> {
  const service = createLockService({ store, ttl: TTL });
  const tokens: string[] = [];
  for (let r = 0; r < RESOURCES; r++) {
    const held = await service.acquire(`bench:${r}`, user, { clientId: `tab-${r}` });
    if (held.status !== 'held') throw new Error(`bench: expected held, got ${held.status}`);
    tokens.push(held.token);
  }
  const op: Op = async (i) => {
    const r = i % RESOURCES;
    const result = await service.acquire(`bench:${r}`, user, {
      clientId: `tab-${r}`,
      token: tokens[r] as string,
    });
    if (result.status !== 'held') throw new Error(`bench: refresh answered ${result.status}`);
  };
  return { op, service };
}

/** The raw anchor on SQLite: one prepared conditional upsert on a file in WAL mode. */
function rawSqlite(dir: string) {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS raw (id TEXT PRIMARY KEY, token TEXT, expires_at INTEGER)');
  const upsert = db.prepare<[string, string, number], { expires_at: number }>(
    `INSERT INTO raw (id, token, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE raw.token = excluded.token
     RETURNING expires_at`,
  );
  for (let r = 0; r < RESOURCES; r++) upsert.run(`bench:${r}`, `token-${r}`, Date.now() + TTL);
  const refresh = (r: number) => upsert.get(`bench:${r}`, `token-${r}`, Date.now() + TTL);
  return { db, refresh };
}

export async function refreshRows(options: {
  rounds: number;
  ms: number;
  log?: (line: string) => void;
}): Promise<RefreshRow[]> {
  const { rounds, ms } = options;
  const rows: RefreshRow[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  const dir = mkdtempSync(join(tmpdir(), 'page-lock-bench-refresh-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const { createSqliteLockStore } = await import('../server-adapter/sqlite');
    const raw = rawSqlite(dir);
    cleanups.unshift(() => {
      raw.db.close();
    });

    const sqlite = createSqliteLockStore({ filename: join(dir, 'locks.db') });
    cleanups.unshift(() => sqlite.close());
    const { op: sqliteOp } = await serviceRefresh(sqlite);
    const [ours, anchor] = await pair(
      sqliteOp,
      async (i) => raw.refresh(i % RESOURCES),
      rounds,
      ms,
    );
    rows.push({
      name: 'SQLite store refresh through the service',
      ours,
      anchorName: 'raw prepared conditional upsert',
      anchor,
    });

    // The handler over the same SQLite store, against a bare shell around the raw upsert.
    const handlerStore = createSqliteLockStore({ filename: join(dir, 'handler.db') });
    cleanups.unshift(() => handlerStore.close());
    const service = createLockService({ store: handlerStore, ttl: TTL });
    const handle = createLockHandler({ service, getUser: () => user, basePath: '/api/locks' });
    const tokens: string[] = [];
    for (let r = 0; r < RESOURCES; r++) {
      const held = await service.acquire(`bench:${r}`, user, { clientId: `tab-${r}` });
      if (held.status !== 'held') throw new Error('bench: expected held');
      tokens.push(held.token);
    }
    const request = (r: number, token: string) =>
      new Request(`http://bench.local/api/locks/bench%3A${r}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: `tab-${r}`, token }),
      });
    const shell = async (req: Request): Promise<Response> => {
      const body = (await req.json()) as { clientId: string; token: string };
      const r = Number(new URL(req.url).pathname.slice('/api/locks/bench%3A'.length));
      const row = raw.refresh(r);
      return Response.json({ status: 'held', token: body.token, lock: row, now: Date.now() });
    };
    const [handlerOps, shellOps] = await pair(
      async (i) => {
        const r = i % RESOURCES;
        const response = await handle(request(r, tokens[r] as string));
        if (response.status !== 200) throw new Error(`bench: handler answered ${response.status}`);
        await response.json();
      },
      async (i) => {
        const r = i % RESOURCES;
        await (await shell(request(r, `token-${r}`))).json();
      },
      rounds,
      ms,
    );
    rows.push({
      name: 'Web handler refresh (SQLite store)',
      ours: handlerOps,
      anchorName: 'raw `Request → json() → Response.json()` shell plus raw upsert',
      anchor: shellOps,
    });

    if (process.env.PAGE_LOCK_POSTGRES_URL) {
      options.log?.('  postgres…');
      const { default: pg } = await import('pg');
      const { createPostgresLockStore } = await import('../server-adapter/postgres');
      const pool = new pg.Pool({ connectionString: process.env.PAGE_LOCK_POSTGRES_URL, max: 2 });
      const table = `page_lock_bench_${process.pid}`;
      const rawTable = `page_lock_bench_raw_${process.pid}`;
      cleanups.unshift(async () => {
        await pool.query(`DROP TABLE IF EXISTS ${table}, ${rawTable}`);
        await pool.end();
      });
      const store = createPostgresLockStore({ pool, table });
      await store.migrate();
      await pool.query(
        `CREATE TABLE ${rawTable} (id text PRIMARY KEY, token text NOT NULL, expires_at bigint)`,
      );
      for (let r = 0; r < RESOURCES; r++) {
        await pool.query(`INSERT INTO ${rawTable} VALUES ($1, $2, $3)`, [
          `bench:${r}`,
          `token-${r}`,
          Date.now() + TTL,
        ]);
      }
      const update = `UPDATE ${rawTable} SET expires_at = $3 WHERE id = $1 AND token = $2 RETURNING expires_at`;
      const { op } = await serviceRefresh(store);
      const [pgOurs, pgAnchor] = await pair(
        op,
        (i) => {
          const r = i % RESOURCES;
          return pool.query(update, [`bench:${r}`, `token-${r}`, Date.now() + TTL]);
        },
        rounds,
        ms,
      );
      rows.push({
        name: 'Postgres store refresh',
        ours: pgOurs,
        anchorName: 'raw `UPDATE … WHERE id = $1 AND token = $2 RETURNING`',
        anchor: pgAnchor,
      });
      // The store runs its refresh as a named (prepared) statement; the same for the anchor.
      const [pgOursAgain, pgNamed] = await pair(
        op,
        (i) => {
          const r = i % RESOURCES;
          const values = [`bench:${r}`, `token-${r}`, Date.now() + TTL];
          return pool.query({ name: `bench_raw_update_${process.pid}`, text: update, values });
        },
        rounds,
        ms,
      );
      rows.push({
        name: 'Postgres store refresh',
        ours: pgOursAgain,
        anchorName: 'the same raw `UPDATE … RETURNING`, prepared (named)',
        anchor: pgNamed,
      });
    }

    if (process.env.PAGE_LOCK_REDIS_URL) {
      options.log?.('  redis…');
      const { default: Redis } = await import('ioredis');
      const { createRedisLockStore } = await import('../server-adapter/redis');
      const client = new Redis(process.env.PAGE_LOCK_REDIS_URL);
      const prefix = `page-lock-bench-${process.pid}:`;
      cleanups.unshift(async () => {
        const keys = await client.keys(`${prefix}*`);
        if (keys.length > 0) await client.del(...keys);
        client.disconnect();
      });
      const store = createRedisLockStore({ client, prefix, warnIfVolatile: false });
      const cas = `if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
        redis.call('HSET', KEYS[1], 'expiresAt', ARGV[2]) return 1 end return 0`;
      const sha = (await client.script('LOAD', cas)) as string;
      for (let r = 0; r < RESOURCES; r++) {
        await client.hset(`${prefix}raw:${r}`, 'token', `token-${r}`, 'expiresAt', '0');
      }
      const { op } = await serviceRefresh(store);
      const [redisOurs, redisAnchor] = await pair(
        op,
        (i) => {
          const r = i % RESOURCES;
          return client.evalsha(
            sha,
            1,
            `${prefix}raw:${r}`,
            `token-${r}`,
            String(Date.now() + TTL),
          );
        },
        rounds,
        ms,
      );
      rows.push({
        name: 'Redis store refresh',
        ours: redisOurs,
        anchorName: 'raw `EVALSHA` compare-and-set',
        anchor: redisAnchor,
      });
    }
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
  return rows;
}
