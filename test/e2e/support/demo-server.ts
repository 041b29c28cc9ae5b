import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_DIR, NEXT_BIN } from './demo-build';
import { freePort, startNextServer, stopNextServer } from './next-server';

/** Short enough that a test can wait out a lease, long enough for a server restart inside it. */
export const E2E_TTL_MS = 6_000;
/** How often editors refresh and blocked tabs and lists look again. */
export const E2E_POLL_MS = 1_000;

/**
 * The built demo, served by `next start` on a free port over a fresh data folder. `next start`
 * listens on every address (`*`, dual-stack), so 127.0.0.1, [::1] and localhost all reach it.
 */
export interface DemoServer {
  /** `http://127.0.0.1:{port}`: the address the tests use unless they name another. */
  readonly url: string;
  readonly port: number;
  /** The demo's URL at another host name or address: `localhost`, `[::1]`, … */
  urlAt(host: string): string;
  readonly dataDir: string;
  /** Stops the server and starts it again on the same port and data: what a deploy does. */
  restart(): Promise<void>;
  /** Stops the server and removes its data folder. */
  stop(): Promise<void>;
}

/** The lease and the poll of a demo server (default {@link E2E_TTL_MS}, {@link E2E_POLL_MS}). */
export interface DemoServerOptions {
  ttlMs?: number;
  pollMs?: number;
  /**
   * The lock store: SQLite in the server's data folder (default), or the Redis or Postgres at
   * this URL, which several demo servers can share (each still has its own content database).
   */
  store?: { redisUrl: string } | { postgresUrl: string };
  /**
   * More of the demo's settings, added to the server's environment: `PAGE_LOCK_IDLE_MS`,
   * `PAGE_LOCK_IDLE_WARNING_MS`, `PAGE_LOCK_QUEUE_GRACE_MS`, … (see the demo's README).
   */
  env?: Readonly<Record<string, string>>;
}

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  // On `::` (dual-stack): a port free on IPv4 and IPv6 alike, as `next start` listens on both.
  const port = await freePort('::');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'page-lock-e2e-'));
  const url = `http://127.0.0.1:${port}`;
  const timing = { ttlMs: options.ttlMs ?? E2E_TTL_MS, pollMs: options.pollMs ?? E2E_POLL_MS };
  const store = {
    PAGE_LOCK_REDIS_URL:
      options.store && 'redisUrl' in options.store ? options.store.redisUrl : undefined,
    PAGE_LOCK_POSTGRES_URL:
      options.store && 'postgresUrl' in options.store ? options.store.postgresUrl : undefined,
  };
  const settings = { ...options.env, ...store };
  const start = () => startNext(port, dataDir, timing, settings);
  let child = await start();
  return {
    url,
    port,
    urlAt: (host) => `http://${host}:${port}`,
    dataDir,
    async restart() {
      await stopNextServer(child);
      child = await start();
    },
    async stop() {
      await stopNextServer(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The built demo on every address, on the store asked for (and with the settings given),
 * whatever the shell has set.
 */
function startNext(
  port: number,
  dataDir: string,
  timing: { ttlMs: number; pollMs: number },
  settings: Record<string, string | undefined>,
): Promise<ChildProcess> {
  return startNextServer({
    cwd: DEMO_DIR,
    nextBin: NEXT_BIN,
    port,
    label: 'e2e',
    env: {
      PAGE_LOCK_DATA_DIR: dataDir,
      PAGE_LOCK_TTL_MS: String(timing.ttlMs),
      PAGE_LOCK_POLL_MS: String(timing.pollMs),
      ...settings,
    },
  });
}
