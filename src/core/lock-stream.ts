import { LOCK_EVENT_NAME, type LockStreamEvent } from '../protocol/live';
import { MAX_BATCH_IDS } from '../protocol/protocol';
import { createSseParser } from './sse-parser';

/** What a watcher hears: a change of its resource, or the stream going up or down. */
export type LockStreamNews =
  | { type: 'event'; event: LockStreamEvent }
  | { type: 'up' }
  | { type: 'down' };

export type LockStreamListener = (news: LockStreamNews) => void;

export interface LockStreamOptions {
  /** The stream's URL for these ids, e.g. `/api/locks/events?ids=a&ids=b`. */
  url: (ids: readonly string[]) => string;
  /** Default: `globalThis.fetch`, looked up on every connection (so MSW can patch it). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Extra headers (CSRF tokens, auth), asked for again before every connection. */
  headers?: () => HeadersInit | undefined | Promise<HeadersInit | undefined>;
  /** Reconnect backoff bounds. Default: 1 s to 30 s. */
  retry?: { minMs: number; maxMs: number };
  /** No byte (not even a heartbeat) for this long means the stream is dead. Default: 50 s. */
  idleMs?: number;
}

export interface LockStream {
  /**
   * Hears every change of `resourceId` while the stream is up. The listener is told `up` or
   * `down` whenever that changes for it: while down (and for ids beyond the first 100 the tab
   * watches, which no stream carries) the caller polls. Returns the unwatch.
   */
  watch(resourceId: string, listener: LockStreamListener): () => void;
  /** Ends every watch; nothing is left running. */
  close(): void;
}

type Entry = { listener: LockStreamListener; told?: 'up' | 'down' };

/** Batches the id-set changes of a list of badges mounting at once into one re-open. */
const DEBOUNCE_MS = 25;
/** A stream that stayed up this long resets the backoff. */
const STAYED_UP_MS = 60_000;
/** Answers that another attempt soon will not change: retry only at the slowest rate. */
const FATAL = [401, 403, 404, 405];

/**
 * The live channel's browser side: one `fetch` stream (not `EventSource`, which cannot send the
 * app's headers) for every id the tab watches, re-opened when the id set changes, reconnected
 * with exponential backoff and jitter when it fails.
 */
export function createLockStream(options: LockStreamOptions): LockStream {
  const { minMs, maxMs } = options.retry ?? { minMs: 1_000, maxMs: 30_000 };
  const watchers = new Map<string, Set<Entry>>();
  let phase: 'idle' | 'connecting' | 'up' | 'down' = 'idle';
  let streamed: readonly string[] = [];
  let connection: AbortController | undefined;
  let syncTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let serverRetry = 0;

  const call = (entry: Entry, news: LockStreamNews) => {
    try {
      entry.listener(news);
    } catch (error) {
      // A broken listener must not break the stream for the others; its error still surfaces.
      queueMicrotask(() => {
        throw error;
      });
    }
  };

  // One stream carries at most MAX_BATCH_IDS ids: the ones watched first. The rest poll.
  const wanted = () => [...watchers.keys()].slice(0, MAX_BATCH_IDS);

  const report = () => {
    let index = 0;
    for (const [id, entries] of watchers) {
      const state =
        index++ >= MAX_BATCH_IDS || phase === 'down'
          ? 'down'
          : phase === 'up' && streamed.includes(id)
            ? 'up'
            : undefined;
      for (const entry of entries) {
        if (state && entry.told !== state) {
          entry.told = state;
          call(entry, { type: state });
        }
      }
    }
  };

  const open = async () => {
    connection?.abort();
    const controller = new AbortController();
    connection = controller;
    const ids = wanted();
    streamed = ids;
    phase = 'connecting';
    let upAt = 0;
    let fatal = false;
    const arm = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => controller.abort(), options.idleMs ?? 50_000);
    };
    const parse = createSseParser(
      (message) => {
        const event = message.event === LOCK_EVENT_NAME ? toLockStreamEvent(message.data) : 0;
        const entries = event && watchers.get(event.resourceId);
        if (event && entries) for (const entry of entries) call(entry, { type: 'event', event });
      },
      (ms) => {
        serverRetry = ms;
      },
    );
    try {
      arm();
      const headers = new Headers(await options.headers?.());
      headers.set('Accept', 'text/event-stream');
      const response = await (options.fetch ?? fetch)(options.url(ids), {
        headers,
        signal: controller.signal,
        credentials: 'same-origin',
        cache: 'no-store',
      });
      fatal = FATAL.includes(response.status);
      if (
        fatal ||
        response.status !== 200 ||
        !/^text\/event-stream/i.test(response.headers.get('Content-Type') ?? '')
      ) {
        throw 0;
      }
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      // Not every fetch ends a body's pending read on abort (MSW's does not): cancel it too.
      controller.signal.onabort = () => {
        reader.cancel().catch(() => {});
      };
      const decoder = new TextDecoder();
      phase = 'up';
      upAt = Date.now();
      report();
      for (;;) {
        const { done, value } = await reader.read();
        // A read that resolved as this stream was replaced must not re-arm the new one's watchdog.
        if (done || connection !== controller) break;
        arm();
        parse(decoder.decode(value, { stream: true }));
      }
    } catch {
      // Every way a stream fails comes to the same: down, then a later attempt.
    }
    if (connection !== controller) return; // re-opened or stopped meanwhile: nothing failed
    controller.abort(); // frees an unread body
    clearTimeout(idleTimer);
    connection = undefined;
    phase = 'down';
    if (upAt && Date.now() - upAt >= STAYED_UP_MS) failures = 0;
    const ceiling = Math.min(maxMs, Math.max(minMs, serverRetry) * 2 ** failures++);
    retryTimer = setTimeout(
      () => {
        retryTimer = undefined;
        open();
      },
      fatal ? maxMs : Math.max(minMs, ceiling / 2 + (Math.random() * ceiling) / 2),
    );
    report();
  };

  const stop = () => {
    clearTimeout(syncTimer);
    clearTimeout(retryTimer);
    clearTimeout(idleTimer);
    syncTimer = retryTimer = undefined;
    connection?.abort();
    connection = undefined;
    phase = 'idle';
    streamed = [];
    failures = serverRetry = 0;
  };

  const sync = () => {
    syncTimer = undefined;
    // While waiting out a backoff, the next attempt takes the id set of its time.
    if (phase !== 'down') {
      const ids = wanted();
      if (phase === 'idle' || JSON.stringify(ids) !== JSON.stringify(streamed)) open();
    }
    report();
  };

  const schedule = () => {
    syncTimer ??= setTimeout(sync, DEBOUNCE_MS);
  };

  return {
    watch(resourceId, listener) {
      let entries = watchers.get(resourceId);
      if (!entries) {
        entries = new Set();
        watchers.set(resourceId, entries);
        schedule();
      }
      const own = entries;
      const entry: Entry = { listener };
      own.add(entry);
      // Told after `watch` returns, never from inside it.
      queueMicrotask(report);
      return () => {
        if (!own.delete(entry) || own.size) return;
        watchers.delete(resourceId);
        if (watchers.size) schedule();
        else stop();
      };
    },
    close() {
      for (const entries of watchers.values()) entries.clear();
      watchers.clear();
      stop();
    },
  };
}

/** The event a `data:` carries, or undefined when it is not JSON of a {@link LockStreamEvent}. */
function toLockStreamEvent(data: string): LockStreamEvent | undefined {
  try {
    const event = JSON.parse(data);
    const { status, lock } = event;
    if (
      typeof event.resourceId === 'string' &&
      // An unknown kind (a newer server) still carries the status: only its shape is checked.
      typeof event.change === 'string' &&
      typeof event.now === 'number' &&
      (status === 'free' ||
        status === 'forbidden' ||
        ((status === 'locked' || status === 'held') &&
          typeof lock?.expiresAt === 'number' &&
          typeof lock.holder?.name === 'string'))
    ) {
      return event;
    }
  } catch {
    // Not JSON: dropped like any other junk.
  }
  return undefined;
}
