/**
 * `npm run bench`: speed and size, each reported as a ratio against a baseline measured in the
 * same run (these machines are noisy, so absolute numbers mean little from one run to the next).
 *
 * - Stores: a holder's life (acquire, 3 refreshes, release) per second on each store, against the
 *   memory store. Redis and Postgres are included when PAGE_LOCK_REDIS_URL / PAGE_LOCK_POSTGRES_URL
 *   are set.
 * - Handler: the same life through the Web handler (Request → Response, JSON both ways) against
 *   calling the service directly.
 * - Refresh against raw anchors (bench/refresh.ts): a holder refreshing 200 leases through the
 *   service (or the Web handler) against the least the same backend can do for it.
 * - Size: each built entry, minified and gzipped with its peers external, against
 *   @tanstack/react-query bundled the same way (what an app already ships to use page-lock).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import {
  createLockHandler,
  createLockService,
  createMemoryLockStore,
  type LockStore,
} from '../server-adapter';
import { refreshRows } from './refresh';

const user = { id: 'u1', name: 'Bench' };
const RESOURCES = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Measured {
  name: string;
  opsPerSecond: number;
}

/** Runs `cycles` holder lives and returns calls per second (5 calls per life). */
async function holderLives(
  life: (resourceId: string, clientId: string) => Promise<void>,
  cycles: number,
): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < cycles; i++) {
    await life(`bench:${i % RESOURCES}`, `client-${i}`);
  }
  const seconds = (performance.now() - started) / 1000;
  return (cycles * 5) / seconds;
}

function serviceLife(store: LockStore) {
  const service = createLockService({ store, ttl: 60_000 });
  return async (resourceId: string, clientId: string) => {
    const held = await service.acquire(resourceId, user, { clientId });
    if (held.status !== 'held') throw new Error(`bench: expected held, got ${held.status}`);
    for (let r = 0; r < 3; r++)
      await service.acquire(resourceId, user, { clientId, token: held.token });
    await service.release(resourceId, held.token);
  };
}

function handlerLife(store: LockStore) {
  const service = createLockService({ store, ttl: 60_000 });
  const handle = createLockHandler({ service, getUser: () => user, basePath: '/api/locks' });
  const post = async (path: string, body: unknown) =>
    handle(
      new Request(`http://bench.local/api/locks/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );
  return async (resourceId: string, clientId: string) => {
    const id = encodeURIComponent(resourceId);
    const held = (await (await post(id, { clientId })).json()) as { token: string };
    for (let r = 0; r < 3; r++) await (await post(id, { clientId, token: held.token })).json();
    await post(`${id}/release`, { token: held.token });
  };
}

/** Best of ROUNDS, alternating candidates so drift hits each alike. */
async function compare(
  candidates: Array<{
    name: string;
    life: (id: string, client: string) => Promise<void>;
    cycles: number;
  }>,
): Promise<Measured[]> {
  const best = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of candidates) {
      const ops = await holderLives(c.life, c.cycles);
      best.set(c.name, Math.max(best.get(c.name) ?? 0, ops));
    }
  }
  return candidates.map((c) => ({ name: c.name, opsPerSecond: best.get(c.name) ?? 0 }));
}

async function storeCandidates() {
  const cleanups: Array<() => Promise<void>> = [];
  const candidates = [
    { name: 'memory (baseline)', life: serviceLife(createMemoryLockStore()), cycles: 4000 },
  ];

  const { createSqliteLockStore } = await import('../server-adapter/sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'page-lock-bench-'));
  const sqlite = createSqliteLockStore({ filename: join(dir, 'locks.db') });
  cleanups.push(async () => {
    await sqlite.close?.();
    rmSync(dir, { recursive: true, force: true });
  });
  candidates.push({ name: 'sqlite (file, WAL)', life: serviceLife(sqlite), cycles: 1500 });

  if (process.env.PAGE_LOCK_REDIS_URL) {
    const { default: Redis } = await import('ioredis');
    const { createRedisLockStore } = await import('../server-adapter/redis');
    const client = new Redis(process.env.PAGE_LOCK_REDIS_URL);
    const prefix = `page-lock-bench-${process.pid}:`;
    cleanups.push(async () => {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
    });
    candidates.push({
      name: 'redis',
      life: serviceLife(createRedisLockStore({ client, prefix })),
      cycles: 500,
    });
  }
  if (process.env.PAGE_LOCK_POSTGRES_URL) {
    const { default: pg } = await import('pg');
    const { createPostgresLockStore } = await import('../server-adapter/postgres');
    const pool = new pg.Pool({ connectionString: process.env.PAGE_LOCK_POSTGRES_URL, max: 2 });
    const table = `page_lock_bench_${process.pid}`;
    const store = createPostgresLockStore({ pool, table });
    await store.migrate();
    cleanups.push(async () => {
      await pool.query(`drop table if exists ${table}`);
      await pool.end();
    });
    candidates.push({ name: 'postgres', life: serviceLife(store), cycles: 300 });
  }
  return { candidates, cleanup: async () => Promise.all(cleanups.map((c) => c())) };
}

const PEERS = [
  'react',
  'react-dom',
  '@tanstack/react-query',
  'better-sqlite3',
  'ioredis',
  'pg',
  'msw',
  'next',
];

async function minGzipBytes(
  entry: string,
  external: string[],
  platform: 'browser' | 'node' = 'browser',
): Promise<number> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform,
    external,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return gzipSync(code, { level: 9 }).length;
}

/** What an app that wires the editor imports: tree-shaking leaves the memory server out. */
const TYPICAL_CLIENT_IMPORT = `export { PageLockProvider, usePageLock, useLockStatus, LockOverlay, createHttpLockAdapter } from './dist/index.js';`;

async function typicalClientBytes(): Promise<number> {
  const result = await build({
    stdin: { contents: TYPICAL_CLIENT_IMPORT, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    external: PEERS,
    logLevel: 'silent',
  });
  return gzipSync(result.outputFiles[0]?.contents ?? new Uint8Array(), { level: 9 }).length;
}

async function sizes() {
  const baseline = await minGzipBytes('node_modules/@tanstack/react-query/build/modern/index.js', [
    'react',
    'react-dom',
    'react/jsx-runtime',
  ]);
  const browserEntries = new Set(['index', 'core', 'memory', 'msw']);
  const entries = [
    'index',
    'core',
    'memory',
    'msw',
    'server',
    'next',
    'node',
    'sqlite',
    'redis',
    'postgres',
  ];
  const rows = [] as Array<{ name: string; bytes: number }>;
  rows.push({
    name: 'page-lock, as an editor imports it (provider, hooks, overlay, HTTP adapter)',
    bytes: await typicalClientBytes(),
  });
  for (const name of entries) {
    const platform = browserEntries.has(name) ? 'browser' : 'node';
    const bytes = await minGzipBytes(`dist/${name}.js`, PEERS, platform);
    rows.push({ name: `page-lock${name === 'index' ? '' : `/${name}`}`, bytes });
  }
  return { baseline, rows };
}

const ratio = (x: number, base: number) => `${(x / base).toFixed(2)}×`;

async function main() {
  console.log(
    `page-lock benchmarks — ${new Date().toISOString()}, Node ${process.version}, best of ${ROUNDS} rounds\n`,
  );

  const refresh = await refreshRows({ rounds: ROUNDS, ms: Number(process.env.BENCH_MS ?? 400) });
  console.log('Refresh against its raw anchor (calls one after another, 200 leases)\n');
  console.log(
    '| path | ours/s | raw anchor | anchor/s | ratio |\n| --- | ---: | --- | ---: | ---: |',
  );
  for (const r of refresh) {
    console.log(
      `| ${r.name} | ${Math.round(r.ours)} | ${r.anchorName} | ${Math.round(r.anchor)} | ${ratio(r.ours, r.anchor)} |`,
    );
  }
  if (process.env.BENCH_ONLY === 'refresh') return;
  console.log('');

  const { candidates, cleanup } = await storeCandidates();
  try {
    const stores = await compare(candidates);
    const base = stores[0]?.opsPerSecond ?? 1;
    console.log(
      'Stores: lock calls per second through the service (acquire, 3 refreshes, release)\n',
    );
    console.log('| store | calls/s | vs memory |\n| --- | ---: | ---: |');
    for (const s of stores)
      console.log(`| ${s.name} | ${Math.round(s.opsPerSecond)} | ${ratio(s.opsPerSecond, base)} |`);
  } finally {
    await cleanup();
  }

  const handler = await compare([
    {
      name: 'service called directly (baseline)',
      life: serviceLife(createMemoryLockStore()),
      cycles: 4000,
    },
    {
      name: 'Web handler, Request → Response',
      life: handlerLife(createMemoryLockStore()),
      cycles: 1500,
    },
  ]);
  const direct = handler[0]?.opsPerSecond ?? 1;
  console.log('\nHandler overhead, memory store\n');
  console.log('| path | calls/s | vs direct |\n| --- | ---: | ---: |');
  for (const h of handler)
    console.log(`| ${h.name} | ${Math.round(h.opsPerSecond)} | ${ratio(h.opsPerSecond, direct)} |`);

  const { baseline, rows } = await sizes();
  console.log('\nSize: built entry, bundled + minified + gzipped, peers external\n');
  console.log('| entry | min+gzip | vs @tanstack/react-query |\n| --- | ---: | ---: |');
  console.log(`| @tanstack/react-query (baseline) | ${(baseline / 1024).toFixed(1)} KiB | 1.00× |`);
  for (const r of rows)
    console.log(`| ${r.name} | ${(r.bytes / 1024).toFixed(1)} KiB | ${ratio(r.bytes, baseline)} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
