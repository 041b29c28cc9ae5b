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

function positiveNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`[page-lock] [demo] ${name} must be a positive number of milliseconds`);
  }
  return value;
}
