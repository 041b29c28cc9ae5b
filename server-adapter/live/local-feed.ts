import { createFeedListeners } from './feed-listeners';
import type { LockFeed } from './lock-feed';

/**
 * The feed of one process: what the memory and SQLite stores need when one server serves every
 * stream. Listeners are called synchronously, in publish order; one that throws stops nobody else.
 */
export function createLocalLockFeed(): LockFeed {
  const listeners = createFeedListeners();
  return {
    async publish(change) {
      listeners.deliver(change);
    },
    subscribe: (listener) => listeners.add(listener),
    async close() {
      listeners.clear();
    },
  };
}
