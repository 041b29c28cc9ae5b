import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

const READY_TIMEOUT_MS = 30_000;

export interface NextServerOptions {
  /** The app folder `next start` runs in. */
  cwd: string;
  /** Next's command line (`node_modules/next/dist/bin/next`). */
  nextBin: string;
  port: number;
  /** `--hostname`; default: Next's own (every address, dual-stack). */
  hostname?: string;
  /** Added to this process's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Resolves true once the server answers as wanted (default: any `GET /` below 500). */
  isReady?: () => Promise<boolean>;
  /** Names the caller in errors, e.g. `e2e`. */
  label: string;
}

/**
 * `next start` in its own process group (so stopping it stops whatever it started too); resolves
 * once it answers, rejects with its output when it exits or does not answer within 30 s.
 */
export async function startNextServer(options: NextServerOptions): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
  };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const args = [options.nextBin, 'start', '--port', String(options.port)];
  if (options.hostname) args.push('--hostname', options.hostname);
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
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
  const host = options.hostname ?? '127.0.0.1';
  const isReady =
    options.isReady ??
    (async () =>
      (await fetch(`http://${host}:${options.port}/`, { redirect: 'manual' })).status < 500);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `[page-lock] [${options.label}] next start exited (${child.exitCode}):\n${output}`,
      );
    }
    try {
      if (await isReady()) return child;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopNextServer(child);
  throw new Error(
    `[page-lock] [${options.label}] next start did not answer within 30 s:\n${output}`,
  );
}

/** Stops the server's process group: SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
export async function stopNextServer(child: ChildProcess | undefined): Promise<void> {
  const pid = child?.pid;
  if (!child || pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(pid, 'SIGTERM');
  const killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 5_000);
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

/** A port free on `host` (`::` for one free on IPv4 and IPv6 alike, as `next start` listens). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('[page-lock] Could not find a free port'));
      });
    });
  });
}
