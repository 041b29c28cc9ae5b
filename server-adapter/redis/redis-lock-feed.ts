import { createFeedListeners } from '../live/feed-listeners';
import { decodeLockChange, encodeLockChange } from '../live/lock-change-message';
import type { LockFeed } from '../live/lock-feed';
import { DEFAULT_REDIS_PREFIX } from './redis-keys';

/** The pub/sub channel of the feed unless told otherwise: under the store's default prefix. */
export const DEFAULT_REDIS_FEED_CHANNEL = `${DEFAULT_REDIS_PREFIX}changes`;

/** A connection in subscriber mode, as an ioredis 5 `Redis` is. */
export interface RedisLockFeedSubscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  removeListener(event: 'message', listener: (channel: string, message: string) => void): unknown;
  /** Used only on a connection the feed made itself (`duplicate()`), on close. */
  quit?(): Promise<unknown>;
  disconnect?(): void;
}

/** The client that publishes: the ioredis client the store uses is one as it is. */
export interface RedisLockFeedClient {
  publish(channel: string, message: string): Promise<unknown>;
  /** ioredis' `duplicate()`: a new connection with the same options, for SUBSCRIBE. */
  duplicate?(): RedisLockFeedSubscriber;
}

export interface RedisLockFeedOptions {
  /** The client that PUBLISHes (the store's, usually). The feed never closes it. */
  client: RedisLockFeedClient;
  /**
   * A connection of its own for SUBSCRIBE (a Redis connection that subscribes can do nothing
   * else). Default: `client.duplicate()`, made at the first subscribe and quit on close. A
   * connection given here is never quit; the feed only unsubscribes its channel.
   */
  subscriber?: RedisLockFeedSubscriber;
  /** The pub/sub channel (default `page-lock:changes`); instances that share it see each other. */
  channel?: string;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * Fan-out of lock changes across instances through Redis pub/sub: PUBLISH on the store's
 * client, SUBSCRIBE on a dedicated connection. The subscription starts with the first listener
 * and stays until `close()` (streams come and go; one idle subscription costs nothing).
 *
 * Pub/sub keeps no history: a change published while the subscriber is reconnecting is missed
 * (ioredis resubscribes by itself once back). Polling stays the authority, so that only delays
 * the news. A message on the channel that is not a change is ignored.
 *
 * @example
 * ```ts
 * const client = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
 * const service = createLockService({
 *   store: createRedisLockStore({ client }),
 *   feed: createRedisLockFeed({ client }),
 * });
 * ```
 */
export function createRedisLockFeed(options: RedisLockFeedOptions): LockFeed {
  const { client, subscriber } = options ?? {};
  if (!client || typeof client.publish !== 'function') {
    throw new Error('[page-lock] [redis] Option "client" must be a Redis client with publish()');
  }
  const channel = options.channel ?? DEFAULT_REDIS_FEED_CHANNEL;
  if (typeof channel !== 'string' || channel === '') {
    throw new Error('[page-lock] [redis] Option "channel" must be a non-empty string');
  }
  if ((subscriber as unknown) === client) {
    throw new Error(
      '[page-lock] [redis] Option "subscriber" must be a connection of its own, not "client": a Redis connection that subscribes can no longer PUBLISH',
    );
  }
  if (!subscriber && typeof client.duplicate !== 'function') {
    throw new Error(
      '[page-lock] [redis] The client has no duplicate(): pass option "subscriber", a connection of its own for SUBSCRIBE',
    );
  }

  const listeners = createFeedListeners();
  let connection: RedisLockFeedSubscriber | null = null;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let wakeRetry: (() => void) | undefined;
  let subscribing: Promise<void> = Promise.resolve();

  const onMessage = (from: string, message: string): void => {
    if (from !== channel) return; // a connection the user gave may carry other channels too
    const change = decodeLockChange(message);
    if (change) listeners.deliver(change);
  };

  // ioredis resubscribes after a reconnect only to channels it had subscribed to: a SUBSCRIBE
  // that failed (Redis away at that moment) is tried again, with a capped backoff.
  const subscribeUntilDone = async (on: RedisLockFeedSubscriber): Promise<void> => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        await on.subscribe(channel);
        return;
      } catch {
        await new Promise<void>((resolve) => {
          wakeRetry = resolve;
          retryTimer = setTimeout(resolve, Math.min(FIRST_RETRY_MS * 2 ** attempt, MAX_RETRY_MS));
          retryTimer.unref?.();
        });
      }
    }
  };

  const start = (): void => {
    const on = subscriber ?? (client.duplicate as () => RedisLockFeedSubscriber)();
    connection = on;
    on.on('message', onMessage);
    subscribing = subscribeUntilDone(on);
  };

  return {
    async publish(change) {
      if (closed) throw closedError();
      await client.publish(channel, encodeLockChange(change));
    },
    subscribe(listener) {
      if (closed) throw closedError();
      const unsubscribe = listeners.add(listener);
      if (!connection) start();
      return unsubscribe;
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      clearTimeout(retryTimer);
      wakeRetry?.();
      const on = connection;
      connection = null;
      if (!on) return;
      on.removeListener('message', onMessage);
      if (subscriber) {
        // Theirs: leave the connection open. Unsubscribe after our SUBSCRIBE is answered, or
        // the SUBSCRIBE would land last and stay.
        await subscribing;
        await on.unsubscribe(channel).catch(() => {});
      } else if (on.quit) {
        await on.quit().catch(() => on.disconnect?.());
      } else {
        on.disconnect?.();
      }
    },
  };
}

function closedError(): Error {
  return new Error('[page-lock] [redis] The lock feed is closed');
}
