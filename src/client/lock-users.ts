import { isDevelopment } from '../core/development';
import { toError } from '../core/lock-failure';
import { DEFAULT_IDLE_WARNING } from './idle-watch';
import type { LockEffect, LockEvent } from './lock-machine-types';
import {
  DEFAULT_POLL_INTERVAL,
  type PageLockCallbacks,
  type PageLockOptions,
} from './lock-options';
import type { PageLockSnapshot } from './lock-snapshot';

/** One component (or provider) that uses the session; its options are read when needed. */
export interface LockSessionUser {
  options(): PageLockOptions;
}

const warned = new Set<string>();

/**
 * How often to poll: `interval`, but at most a third of the server's TTL so a lease survives a
 * missed poll; while the live stream is up (`live`), a third of the TTL: the poll is then only a
 * safety net. Sessions and list badges poll by this one rule.
 */
export function pollEvery(interval: number, ttlMs: number | null, live: boolean): number {
  if (ttlMs === null) return interval;
  const third = Math.max(1, Math.floor(ttlMs / 3));
  return live ? third : Math.min(interval, third);
}

/**
 * The hooks (and the provider) sharing one session, and what their options add up to: any user
 * wanting `mount` makes it `mount`, the smallest `pollInterval`, `idleTimeout` and `idleWarning`
 * win (a hook that sets none does not compete), and every distinct callback runs.
 */
export class LockUsers extends Set<LockSessionUser> {
  acquireMode(): 'mount' | 'manual' {
    const manual = this.size > 0 && [...this].every((user) => user.options().acquire === 'manual');
    return manual ? 'manual' : 'mount';
  }

  /**
   * Clamped to a third of the server's TTL, so a lease survives a missed poll. `safetyNet`: the
   * live stream brings the news, so a look polls only every third of the TTL (never more often).
   */
  pollInterval(ttlMs: number | null, safetyNet = false): number {
    const asked = [...this].map((user) => user.options().pollInterval ?? Infinity);
    const smallest = Math.min(...asked.filter((interval) => interval > 0));
    const interval = smallest === Infinity ? DEFAULT_POLL_INTERVAL : smallest;
    const every = pollEvery(interval, ttlMs, false);
    if (every < interval) {
      const warning = `[page-lock] [usePageLock] pollInterval ${interval} ms is more than a third of the server's ttl (${ttlMs} ms); polling every ${every} ms so a lease survives a missed poll`;
      if (isDevelopment() && !warned.has(warning)) {
        warned.add(warning);
        console.warn(warning);
      }
    }
    return pollEvery(interval, ttlMs, safetyNet);
  }

  /** Idle release after this long without input, or null: off (the default). */
  idleTimeout(): number | null {
    return this.#smallest('idleTimeout') ?? null;
  }

  idleWarning(): number {
    return this.#smallest('idleWarning') ?? DEFAULT_IDLE_WARNING;
  }

  /** Run each distinct callback once (one that throws is reported); false when there was none. */
  run(name: 'onAcquired' | 'onLost' | 'onAvailable', state: PageLockSnapshot): boolean {
    const callbacks = this.#callbacks(name);
    for (const callback of callbacks) {
      try {
        callback(state);
      } catch (error) {
        const { reportError } = globalThis as { reportError?: (error: unknown) => void };
        if (typeof reportError === 'function') reportError(error);
        else console.error(error);
      }
    }
    return callbacks.length > 0;
  }

  /** Run each distinct `onHandOver` (or `onIdle`) and wait for them all: `calledBack`. */
  async settle(
    effect: Extract<LockEffect, { name: 'onHandOver' | 'onIdle' }>,
    state: PageLockSnapshot,
  ): Promise<LockEvent> {
    const { id } = effect;
    const calls =
      effect.name === 'onIdle'
        ? this.#callbacks('onIdle').map(async (callback) => callback(state))
        : this.#callbacks('onHandOver').map(async (callback) => callback(state, effect.waiter));
    try {
      await Promise.all(calls);
      return { type: 'calledBack', id };
    } catch (error) {
      return {
        type: 'calledBack',
        id,
        error: toError(error),
      };
    }
  }

  #callbacks<N extends keyof PageLockCallbacks>(name: N): NonNullable<PageLockCallbacks[N]>[] {
    const all = [...this].map((user) => user.options()[name]);
    return [...new Set(all)].filter((callback) => callback !== undefined);
  }

  #smallest(name: 'idleTimeout' | 'idleWarning'): number | undefined {
    const given = [...this].map((user) => user.options()[name] ?? Infinity).filter((ms) => ms > 0);
    const smallest = Math.min(...given);
    return smallest === Infinity ? undefined : smallest;
  }
}
