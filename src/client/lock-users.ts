import { isDevelopment } from '../core/development';
import { DEFAULT_POLL_INTERVAL, type PageLockOptions } from './lock-options';
import type { PageLockSnapshot } from './lock-snapshot';

/** One component (or provider) that uses the session; its options are read when needed. */
export interface LockSessionUser {
  options(): PageLockOptions;
}

type Callback = (state: PageLockSnapshot) => void;

/**
 * The hooks (and the provider) sharing one session, and what their options add up to: any user
 * wanting `mount` makes it `mount`, the smallest `pollInterval` wins (a hook that sets none does
 * not compete), and every distinct callback runs.
 */
export class LockUsers extends Set<LockSessionUser> {
  acquireMode(): 'mount' | 'manual' {
    for (const user of this) if (user.options().acquire !== 'manual') return 'mount';
    return this.size === 0 ? 'mount' : 'manual';
  }

  /** The poll interval, clamped to a third of the server's TTL so a lease survives a missed poll. */
  pollInterval(ttlMs: number | null): number {
    let interval = Number.POSITIVE_INFINITY;
    for (const user of this) {
      const asked = user.options().pollInterval;
      if (asked !== undefined && Number.isFinite(asked) && asked > 0) {
        interval = Math.min(interval, asked);
      }
    }
    if (interval === Number.POSITIVE_INFINITY) interval = DEFAULT_POLL_INTERVAL;
    const ceiling = ttlMs === null ? interval : Math.max(1, Math.floor(ttlMs / 3));
    if (interval > ceiling) {
      warnOnce(
        `[page-lock] [usePageLock] pollInterval ${interval} ms is more than a third of the server's ttl (${ttlMs} ms); polling every ${ceiling} ms so a lease survives a missed poll`,
      );
      interval = ceiling;
    }
    return interval;
  }

  /** The users' callbacks of one kind, each function once. */
  callbacks(name: 'onAcquired' | 'onLost' | 'onAvailable'): Set<Callback> {
    const callbacks = new Set<Callback>();
    for (const user of this) {
      const callback = user.options()[name];
      if (callback) callbacks.add(callback);
    }
    return callbacks;
  }
}

/** Run every callback; one that throws is reported and does not stop the others. */
export function runEach(callbacks: Iterable<Callback>, state: PageLockSnapshot): void {
  for (const callback of callbacks) {
    try {
      callback(state);
    } catch (error) {
      const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
      if (typeof report === 'function') report(error);
      else console.error(error);
    }
  }
}

const warned = new Set<string>();

function warnOnce(message: string): void {
  if (!isDevelopment() || warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}
