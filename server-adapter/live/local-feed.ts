import type { LockChange, LockFeed } from './lock-feed';

/**
 * The feed of one process: what the memory and SQLite stores need when one server serves every
 * stream. Listeners are called synchronously, in publish order; one that throws is dropped from
 * nothing and stops nobody else.
 */
export function createLocalLockFeed(): LockFeed {
  const listeners = new Set<(change: LockChange) => void>();
  return {
    async publish(change) {
      for (const listener of [...listeners]) {
        try {
          listener(change);
        } catch {
          // One broken stream must not keep the change from the others.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      listeners.clear();
    },
  };
}
