import type { LockChange } from './lock-feed';

/** The listeners of one feed on one instance, each told of every change it receives. */
export interface FeedListeners {
  /** Adds a listener; the returned function removes exactly this subscription (idempotent). */
  add(listener: (change: LockChange) => void): () => void;
  /** Calls every listener, in subscription order. One that throws stops nobody else. */
  deliver(change: LockChange): void;
  readonly size: number;
  clear(): void;
}

export function createFeedListeners(): FeedListeners {
  // One entry per subscription (not per function): subscribing the same function twice gives
  // two independent subscriptions, each removed by its own unsubscribe.
  const entries = new Set<{ listener: (change: LockChange) => void }>();
  return {
    add(listener) {
      const entry = { listener };
      entries.add(entry);
      return () => {
        entries.delete(entry);
      };
    },
    deliver(change) {
      for (const { listener } of [...entries]) {
        try {
          listener(change);
        } catch {
          // One broken stream must not keep the change from the others.
        }
      }
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
  };
}
