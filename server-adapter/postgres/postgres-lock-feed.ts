import { createFeedListeners } from '../live/feed-listeners';
import { decodeLockChange, encodeLockChange } from '../live/lock-change-message';
import type { LockFeed } from '../live/lock-feed';
import { createNotificationJoiner, splitIntoNotifications } from './postgres-notify-chunks';

/** The NOTIFY channel of the feed unless told otherwise (beside the default table `page_lock`). */
export const DEFAULT_POSTGRES_FEED_CHANNEL = 'page_lock_changes';

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/** A notification as `pg` emits it. */
export interface PostgresNotification {
  channel: string;
  payload?: string;
}

/** The connection the feed LISTENs on, checked out of the pool: a `pg` `PoolClient` is one. */
export interface PostgresListenConnection {
  query(text: string, values?: unknown[]): Promise<unknown>;
  /** Back to the pool; with an error (or `true`) the pool destroys the connection instead. */
  release(error?: Error | boolean): void;
  on(event: 'notification', listener: (message: PostgresNotification) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeListener(event: 'notification', listener: (message: PostgresNotification) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'end', listener: () => void): unknown;
}

/** What the feed needs of a pool: a `pg` `Pool` is one. */
export interface PostgresLockFeedPool {
  query(text: string, values?: unknown[]): Promise<unknown>;
  connect(): Promise<PostgresListenConnection>;
}

export interface PostgresLockFeedOptions {
  /**
   * A `pg` Pool the application made and owns (the store's, usually; the feed never ends it).
   * From the first subscribe to `close()` the feed holds one of its connections for LISTEN:
   * count it in the pool's `max`.
   */
  pool: PostgresLockFeedPool;
  /** The NOTIFY channel (default `page_lock_changes`): a plain identifier, quoted as given. */
  channel?: string;
}

/**
 * Fan-out of lock changes across instances through Postgres LISTEN/NOTIFY. Publishing runs
 * `SELECT pg_notify(channel, json)` through the pool, one change after the other so that the
 * order of one instance's changes is kept (pooled queries could overtake each other). The first
 * subscribe checks one connection out of the pool and LISTENs on it; `close()` UNLISTENs and
 * gives it back.
 *
 * A change larger than a NOTIFY payload may be (8000 bytes) is sent in parts, in one
 * transaction, and put together on arrival (see `postgres-notify-chunks.ts`).
 *
 * When the listening connection errors or dies, the feed gives it up and LISTENs again on a new
 * one, with a capped backoff (0.1 s doubling to 5 s) for as long as Postgres is away. Changes
 * published meanwhile are missed: NOTIFY keeps nothing for a listener that is not there. Polling
 * stays the authority, so that only delays the news.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const service = createLockService({
 *   store: createPostgresLockStore({ pool }),
 *   feed: createPostgresLockFeed({ pool }),
 * });
 * ```
 */
export function createPostgresLockFeed(options: PostgresLockFeedOptions): LockFeed {
  const { pool } = options ?? {};
  if (!pool || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw new Error('[page-lock] [postgres] Option "pool" must be a pg Pool');
  }
  const channel = options.channel ?? DEFAULT_POSTGRES_FEED_CHANNEL;
  if (typeof channel !== 'string' || !PLAIN_IDENTIFIER.test(channel)) {
    throw new Error(
      '[page-lock] [postgres] Option "channel" must be a plain SQL identifier (letters, digits, "_", at most 63)',
    );
  }
  const quotedChannel = `"${channel}"`;

  const listeners = createFeedListeners();
  const joiner = createNotificationJoiner();
  let closed = false;
  let started = false;
  let listening: PostgresListenConnection | null = null;
  let detachListening: (() => void) | null = null;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let connecting: Promise<void> = Promise.resolve();
  let lastPublish: Promise<unknown> = Promise.resolve();

  const onNotification = (message: PostgresNotification): void => {
    if (message.channel !== channel || typeof message.payload !== 'string') return;
    const whole = joiner.accept(message.payload);
    const change = whole === null ? null : decodeLockChange(whole);
    if (change) listeners.deliver(change);
  };

  const retryLater = (): void => {
    if (closed) return;
    const delay = Math.min(FIRST_RETRY_MS * 2 ** attempt++, MAX_RETRY_MS);
    retryTimer = setTimeout(() => {
      connecting = listen();
    }, delay);
    retryTimer.unref?.();
  };

  /** Gives a dead or failing connection up (the pool destroys it) and LISTENs again later. */
  const lose = (connection: PostgresListenConnection, error: Error | undefined): void => {
    if (listening !== connection) return;
    detachListening?.();
    listening = null;
    detachListening = null;
    joiner.clear(); // parts that were on their way died with it
    // `pg` may still emit an error on a connection the pool is ending: heard, it cannot crash.
    connection.on('error', ignore);
    connection.release(error ?? true);
    retryLater();
  };

  const listen = async (): Promise<void> => {
    let connection: PostgresListenConnection;
    try {
      connection = await pool.connect();
    } catch {
      retryLater();
      return;
    }
    if (closed) {
      connection.release();
      return;
    }
    const onError = (error: Error): void => lose(connection, error);
    const onEnd = (): void => lose(connection, undefined);
    connection.on('notification', onNotification);
    connection.on('error', onError);
    connection.on('end', onEnd);
    listening = connection;
    detachListening = () => {
      connection.removeListener('notification', onNotification);
      connection.removeListener('error', onError);
      connection.removeListener('end', onEnd);
    };
    try {
      await connection.query(`LISTEN ${quotedChannel}`);
      attempt = 0;
    } catch (error) {
      lose(connection, error instanceof Error ? error : new Error(String(error)));
    }
  };

  const send = async (change: Parameters<LockFeed['publish']>[0]): Promise<void> => {
    const payloads = splitIntoNotifications(encodeLockChange(change));
    if (payloads.length === 1) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payloads[0]]);
      return;
    }
    // Parts go in one transaction: Postgres delivers them together, in order, at COMMIT.
    const connection = await pool.connect();
    try {
      await connection.query('BEGIN');
      for (const payload of payloads) {
        await connection.query('SELECT pg_notify($1, $2)', [channel, payload]);
      }
      await connection.query('COMMIT');
      connection.release();
    } catch (error) {
      connection.release(error instanceof Error ? error : true);
      throw error;
    }
  };

  return {
    publish(change) {
      if (closed) return Promise.reject(closedError());
      // One after the other: the order of this instance's changes is the order they arrive in.
      const sent = lastPublish.then(() => send(change));
      lastPublish = sent.catch(() => {});
      return sent;
    },
    subscribe(listener) {
      if (closed) throw closedError();
      const unsubscribe = listeners.add(listener);
      if (!started) {
        started = true;
        connecting = listen();
      }
      return unsubscribe;
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      joiner.clear();
      clearTimeout(retryTimer);
      await connecting; // a connection being checked out is given back by listen() itself
      const connection = listening;
      listening = null;
      if (!connection) return;
      detachListening?.();
      detachListening = null;
      connection.on('error', ignore);
      try {
        await connection.query(`UNLISTEN ${quotedChannel}`);
        connection.removeListener('error', ignore);
        connection.release();
      } catch (error) {
        connection.release(error instanceof Error ? error : true);
      }
    },
  };
}

function ignore(): void {}

function closedError(): Error {
  return new Error('[page-lock] [postgres] The lock feed is closed');
}
