import {
  EVENT_STREAM_MEDIA_TYPE,
  LOCK_EVENT_NAME,
  type LockStreamEvent,
} from '../../src/protocol/live';
import {
  type LockUser,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
} from '../../src/protocol/protocol';
import type { LiveHub, LiveWatcher } from './live-hub';

/** A comment line this often keeps proxies (and Next's, nginx's, a load balancer's) from closing it. */
export const DEFAULT_HEARTBEAT_MS = 20_000;
/** How long a browser's `EventSource` waits before reconnecting (the stream's `retry:` line). */
export const EVENT_STREAM_RETRY_MS = 3_000;
/**
 * A stream whose client stopped reading is closed once this much news waits for it (beyond the
 * opening snapshot): a dead or slow subscriber never holds memory without bound, or slows others.
 */
export const MAX_STREAM_QUEUE_BYTES = 64 * 1024;

export interface EventStreamOptions {
  hub: LiveHub;
  user: LockUser;
  ids: readonly string[];
  /** The stream's request: its signal's abort (the client went away) frees the stream. */
  request: Request;
  heartbeatMs: number;
  /** News waiting beyond the snapshot past which the stream is closed (default 64 KiB). */
  maxQueueBytes?: number;
}

/**
 * The headers of a stream. No `Connection: keep-alive`: it is a hop-by-hop header that HTTP/2
 * forbids, and the Web handler cannot know which HTTP it answers (`page-lock/node` adds it for
 * HTTP/1). `no-transform` keeps compressing middleware from buffering the stream; `X-Accel-Buffering`
 * does the same for nginx.
 */
export function eventStreamHeaders(): Headers {
  return new Headers([
    ['Content-Type', `${EVENT_STREAM_MEDIA_TYPE}; charset=utf-8`],
    ['Cache-Control', 'no-store, no-transform'],
    ['X-Accel-Buffering', 'no'],
    [PROTOCOL_VERSION_HEADER, PROTOCOL_VERSION],
  ]);
}

/** One `event: lock` as SSE text. JSON holds no raw newline, so `data:` is one line. */
export function formatLockEvent(id: number, event: LockStreamEvent): string {
  return `id: ${id}\nevent: ${LOCK_EVENT_NAME}\ndata: ${JSON.stringify(event)}\n\n`;
}

const encoder = new TextEncoder();

/**
 * Opens one stream: watches `ids` in the hub first, then takes the snapshot (so a change between
 * the look and the subscription is not lost), and answers once the snapshot is ready, so a store
 * failure is still a JSON 500 and not a broken stream. Rejects (freeing what it took) when the
 * snapshot fails.
 *
 * The body: `retry:`, one `snapshot` event per id, then an event per change of a watched id and
 * `: ping` every `heartbeatMs`. Everything is freed when the client goes away (`signal`), cancels
 * the body, or stops reading for longer than the queue bound allows.
 */
export async function openEventStream(options: EventStreamOptions): Promise<Response> {
  const { hub, user, ids, heartbeatMs } = options;
  const { signal } = options.request;
  // Held while the stream is open: undici links a Request's signal to the one it was built with
  // through the Request itself, so a Request collected early (the framework dropped it) would
  // never tell the stream that its client went away.
  const held: { request: Request | null } = { request: options.request };
  const maxQueueBytes = options.maxQueueBytes ?? MAX_STREAM_QUEUE_BYTES;
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  let closed = false;
  let sequence = 0;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  /** Deliveries that came before the snapshot was sent; then the newest look sent per id. */
  let early: Array<{ event: LockStreamEvent; look: number }> | null = [];
  const lastLook = new Map<string, number>();

  const free = (): void => {
    if (closed) return;
    closed = true;
    hub.unwatch(watcher, ids);
    hub.releaseStream();
    if (heartbeat !== null) clearInterval(heartbeat);
    heartbeat = null;
    signal.removeEventListener('abort', onAbort);
    early = null;
    held.request = null;
  };

  const write = (text: string): void => {
    if (closed || controller === null) return;
    controller.enqueue(encoder.encode(text));
    if ((controller.desiredSize ?? 0) < 0) {
      // Too slow or gone without a word: drop it (the queue goes with the error), nobody waits.
      const stalled = controller;
      free();
      stalled.error(
        new Error('[page-lock] [live] The event stream was closed: its client stopped reading'),
      );
    }
  };

  const send = (event: LockStreamEvent, look: number): void => {
    const seen = lastLook.get(event.resourceId);
    // An older look than one already sent (a snapshot read raced a change's read) says nothing new.
    if (seen !== undefined && look <= seen) return;
    lastLook.set(event.resourceId, look);
    sequence += 1;
    write(formatLockEvent(sequence, event));
  };

  const watcher: LiveWatcher = {
    user,
    deliver(event, look) {
      if (closed) return;
      if (early !== null) early.push({ event, look });
      else send(event, look);
    },
  };

  function onAbort(): void {
    const open = controller;
    free();
    try {
      open?.close();
    } catch {
      // Already closed or errored.
    }
  }

  hub.watch(watcher, ids);
  let snapshot: Awaited<ReturnType<LiveHub['snapshot']>>;
  try {
    snapshot = await hub.snapshot(user, ids);
  } catch (error) {
    free();
    throw error;
  }
  if (signal.aborted) {
    free();
    return new Response(null, { status: 204, headers: eventStreamHeaders() });
  }

  // A refused id is said once, as `forbidden`, and not watched.
  const refused = snapshot.events
    .filter((event) => event.status === 'forbidden')
    .map((event) => event.resourceId);
  if (refused.length > 0) hub.unwatch(watcher, refused);
  const refusedIds = new Set(refused);
  let opening = `retry: ${EVENT_STREAM_RETRY_MS}\n\n`;
  for (const event of snapshot.events) {
    lastLook.set(event.resourceId, snapshot.look);
    sequence += 1;
    opening += formatLockEvent(sequence, event);
  }
  const openingBytes = encoder.encode(opening);

  const body = new ReadableStream<Uint8Array>(
    {
      start(started) {
        controller = started;
        started.enqueue(openingBytes);
        const waiting = early ?? [];
        early = null;
        for (const { event, look } of waiting) {
          if (!refusedIds.has(event.resourceId)) send(event, look);
        }
      },
      cancel() {
        free();
      },
    },
    // The bound is on news: the snapshot (up to 100 ids) never counts against it.
    new ByteLengthQueuingStrategy({ highWaterMark: openingBytes.byteLength + maxQueueBytes }),
  );

  signal.addEventListener('abort', onAbort, { once: true });
  heartbeat = setInterval(() => write(': ping\n\n'), heartbeatMs);
  // An open stream must not keep a process (a test, a script) alive on its own; a server's
  // listening socket does that.
  (heartbeat as { unref?: () => void }).unref?.();
  return new Response(body, { status: 200, headers: eventStreamHeaders() });
}
