import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_DIR, NEXT_BIN } from './demo-build';

/** Short enough that a test can wait out a lease, long enough for a server restart inside it. */
export const E2E_TTL_MS = 6_000;
/** How often editors refresh and blocked tabs and lists look again. */
export const E2E_POLL_MS = 1_000;

const READY_TIMEOUT_MS = 30_000;

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
}

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'page-lock-e2e-'));
  const url = `http://127.0.0.1:${port}`;
  const timing = { ttlMs: options.ttlMs ?? E2E_TTL_MS, pollMs: options.pollMs ?? E2E_POLL_MS };
  let child = await startNext(port, dataDir, url, timing);
  return {
    url,
    port,
    urlAt: (host) => `http://${host}:${port}`,
    dataDir,
    async restart() {
      await stopNext(child);
      child = await startNext(port, dataDir, url, timing);
    },
    async stop() {
      await stopNext(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startNext(
  port: number,
  dataDir: string,
  url: string,
  timing: Required<DemoServerOptions>,
): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    PAGE_LOCK_DATA_DIR: dataDir,
    PAGE_LOCK_TTL_MS: String(timing.ttlMs),
    PAGE_LOCK_POLL_MS: String(timing.pollMs),
  };
  // The default store, whatever the shell running the tests has set.
  delete env.PAGE_LOCK_REDIS_URL;
  delete env.PAGE_LOCK_POSTGRES_URL;
  // Its own process group, so stopping it stops whatever `next start` started too.
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '--port', String(port)], {
    cwd: DEMO_DIR,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`[page-lock] [e2e] The demo server exited (${child.exitCode}):\n${output}`);
    }
    try {
      const response = await fetch(`${url}/`, { redirect: 'manual' });
      if (response.status < 500) return child;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopNext(child);
  throw new Error(`[page-lock] [e2e] The demo server did not answer within 30 s:\n${output}`);
}

async function stopNext(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child.pid, 'SIGTERM');
  const killTimer = setTimeout(() => signalGroup(child.pid as number, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(killTimer);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    // On `::` (dual-stack): a port free on IPv4 and IPv6 alike, as `next start` listens on both.
    server.listen(0, '::', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('[page-lock] [e2e] Could not find a free port'));
      });
    });
  });
}
