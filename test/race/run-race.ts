import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditRaceLogs, type RaceAudit, readRaceLogs } from './audit';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '../..');
const workerScript = join(here, 'race-worker.ts');

/** One race: how many processes hammer which store, how hard and with what lease length. */
export interface RaceOptions {
  /** A kind of race-stores.ts. */
  kind: string;
  /** Passed to the kind's factory in every worker. */
  connection: string;
  /** How many OS processes race. */
  workers: number;
  /** Loop turns per worker; most are store calls, a few are pauses or abandoned leases. */
  operationsPerWorker: number;
  /** How many resources the workers fight over. */
  resources: number;
  /** The lock service's ttl in every worker: short, so leases lapse during the race. */
  ttl: number;
  /** Seeds every worker's random choices (default: the start time); returned, to replay a run. */
  seed?: number;
  /**
   * Skews the workers' service clocks (ms): even workers run `clockSkewMs` behind the machine,
   * odd ones ahead, as servers whose clocks disagree by twice that. Only for stores that decide
   * by their own clock (Redis, Postgres). Default 0.
   */
  clockSkewMs?: number;
}

/** Worker `worker`'s clock offset for a race skewed by `skew` ms: ± alternately. */
export function clockOffsetOf(worker: number, skew: number): number {
  return worker % 2 === 0 ? -skew : skew;
}

/** Runs the workers as separate processes against one store, then audits their merged logs. */
export async function runRace(
  options: RaceOptions,
): Promise<RaceAudit & { elapsedMs: number; seed: number }> {
  const logDir = mkdtempSync(join(tmpdir(), 'page-lock-race-'));
  const started = Date.now();
  const seed = options.seed ?? started;
  // Node and tsx take a while to start on a busy machine: all begin together at startAt.
  const startAt = started + 1_500 + 150 * options.workers;
  try {
    const logs = Array.from({ length: options.workers }, (_, i) =>
      join(logDir, `worker-${i}.jsonl`),
    );
    await Promise.all(
      logs.map((log, worker) =>
        runWorker([
          '--kind',
          options.kind,
          '--connection',
          options.connection,
          '--worker',
          String(worker),
          '--operations',
          String(options.operationsPerWorker),
          '--resources',
          String(options.resources),
          '--ttl',
          String(options.ttl),
          '--seed',
          String(seed),
          '--start-at',
          String(startAt),
          // As `--name=value`: a negative offset would otherwise read as an option.
          `--clock-offset=${clockOffsetOf(worker, options.clockSkewMs ?? 0)}`,
          '--log',
          log,
        ]),
      ),
    );
    // By the service's clock each worker reads the time before its store call waits for the
    // store's lock, so two asks a few ms apart may be decided in the other order.
    const orderMarginMs = storeDecidesTime(options.kind) ? 0 : options.ttl;
    return {
      ...auditRaceLogs(readRaceLogs(logs), { orderMarginMs }),
      elapsedMs: Date.now() - started,
      seed,
    };
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

/** The kinds of race-stores.ts that decide by their own clock (their `clock` is `'store'`). */
function storeDecidesTime(kind: string): boolean {
  return kind === 'redis' || kind === 'postgres';
}

function runWorker(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', workerScript, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', fail);
    child.on('exit', (code) => {
      if (code === 0) done();
      else fail(new Error(`[page-lock] [race] worker exited with ${code}:\n${stderr}`));
    });
  });
}
