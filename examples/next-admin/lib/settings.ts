import { mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the demo keeps its SQLite files: `PAGE_LOCK_DATA_DIR`, or `data/` next to the app
 * (git-ignored). Created on first use.
 */
export function dataDir(): string {
  // Chosen at run time: keep Next's output tracing from copying whatever this may point at.
  const dir = path.resolve(
    /*turbopackIgnore: true*/ process.env.PAGE_LOCK_DATA_DIR ?? path.join(process.cwd(), 'data'),
  );
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The lease length: `PAGE_LOCK_TTL_MS` (tests shorten it), else the library's default. */
export function lockTtl(): number | undefined {
  return positiveNumber('PAGE_LOCK_TTL_MS');
}

/** How often the editor refreshes its lease: `PAGE_LOCK_POLL_MS`, else the library's default. */
export function pollInterval(): number | undefined {
  return positiveNumber('PAGE_LOCK_POLL_MS');
}

/** Ten minutes without input in the editor, then "Are you still editing?". */
const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;

/**
 * How long an editor may go without input before it is asked "Are you still editing?" (and,
 * unanswered, released to whoever waits): `PAGE_LOCK_IDLE_MS` (`0` turns idle release off), else
 * ten minutes.
 */
export function idleTimeout(): number | undefined {
  const raw = process.env.PAGE_LOCK_IDLE_MS;
  if (raw === '0') return undefined;
  return positiveNumber('PAGE_LOCK_IDLE_MS') ?? DEFAULT_IDLE_TIMEOUT_MS;
}

/** How long the idle warning shows before the page is released: `PAGE_LOCK_IDLE_WARNING_MS`. */
export function idleWarning(): number | undefined {
  return positiveNumber('PAGE_LOCK_IDLE_WARNING_MS');
}

/**
 * How long a page passed to the first in line stays theirs before their tab takes it:
 * `PAGE_LOCK_QUEUE_GRACE_MS`, else the library's default.
 */
export function queueGrace(): number | undefined {
  return positiveNumber('PAGE_LOCK_QUEUE_GRACE_MS');
}

/** How long a request to edit waits for the holder's answer: `PAGE_LOCK_ASK_TIMEOUT_MS`. */
export function askTimeout(): number | undefined {
  return positiveNumber('PAGE_LOCK_ASK_TIMEOUT_MS');
}

function positiveNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`[page-lock] [demo] ${name} must be a positive number of milliseconds`);
  }
  return value;
}
