import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createLockStream,
  type LockStream,
  type LockStreamNews,
  type LockStreamOptions,
} from '../../src/core/lock-stream';
import type { LockStreamEvent } from '../../src/protocol/live';
import { MAX_BATCH_IDS } from '../../src/protocol/protocol';

/**
 * The transport against a stand-in for the server's stream (MSW in front of real `fetch`): each
 * request gets a body the test writes to, piece by piece, and the test sees when it is let go.
 */

const base = 'http://app.test/api/locks';
const url = (ids: readonly string[]) =>
  `${base}/events?${ids.map((id) => `ids=${encodeURIComponent(id)}`).join('&')}`;
const encoder = new TextEncoder();

interface Connection {
  request: Request;
  ids: string[];
  /** The client let go of it (abort). */
  released: boolean;
  write(piece: string | Uint8Array): void;
  end(): void;
}

const network = setupServer();
let connections: Connection[];
let streams: LockStream[];

beforeAll(() => network.listen({ onUnhandledRequest: 'error' }));
afterAll(() => network.close());
beforeEach(() => {
  connections = [];
  streams = [];
  network.resetHandlers(
    http.get(`${base}/events`, ({ request }) => {
      let body!: ReadableStreamDefaultController<Uint8Array>;
      const connection: Connection = {
        request,
        ids: new URL(request.url).searchParams.getAll('ids'),
        released: false,
        write: (piece) => body.enqueue(typeof piece === 'string' ? encoder.encode(piece) : piece),
        end: () => body.close(),
      };
      request.signal.addEventListener('abort', () => {
        connection.released = true;
      });
      connections.push(connection);
      return new HttpResponse(
        new ReadableStream<Uint8Array>({
          start(controller) {
            body = controller;
          },
        }),
        {
          headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Page-Lock-Version': '1' },
        },
      );
    }),
  );
});
afterEach(() => {
  for (const stream of streams) stream.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function stream(options: Partial<LockStreamOptions> = {}): LockStream {
  const created = createLockStream({ url, retry: { minMs: 20, maxMs: 200 }, ...options });
  streams.push(created);
  return created;
}

/** A listener that keeps what it hears. */
function recorder() {
  const heard: LockStreamNews[] = [];
  const listener = (news: LockStreamNews) => heard.push(news);
  return {
    listener,
    heard,
    states: () => heard.filter((news) => news.type !== 'event').map((news) => news.type),
    events: () => heard.flatMap((news) => (news.type === 'event' ? [news.event] : [])),
  };
}

const open = () => connections.filter((connection) => !connection.released);

function lockEvent(
  resourceId: string,
  overrides: Partial<LockStreamEvent> = {},
  holderName = 'Carol',
): LockStreamEvent {
  return {
    resourceId,
    change: 'acquired',
    status: 'locked',
    lock: {
      resourceId,
      holder: { id: 'u-carol', name: holderName },
      since: 1,
      acquiredAt: 1,
      expiresAt: 90_001,
      fence: 3,
    },
    isSelf: false,
    canTakeOver: true,
    ttlMs: 90_000,
    now: 1,
    ...overrides,
  } as LockStreamEvent;
}

const frame = (event: unknown, id = '') =>
  `${id ? `id: ${id}\n` : ''}event: lock\ndata: ${JSON.stringify(event)}\n\n`;

describe('createLockStream: one stream for every watch', () => {
  it('opens one request, with the stream headers, for every id watched at once', async () => {
    const live = stream({ headers: () => ({ 'X-CSRF-Token': 'csrf-1' }) });
    const [a, a2, b, c] = [recorder(), recorder(), recorder(), recorder()];
    live.watch('page:a', a.listener);
    live.watch('page:a', a2.listener);
    live.watch('page:b', b.listener);
    live.watch('page/ü c', c.listener);

    await vi.waitFor(() => expect(a.states()).toEqual(['up']));
    expect(connections).toHaveLength(1);
    const [{ request, ids }] = connections as [Connection];
    expect(ids).toEqual(['page:a', 'page:b', 'page/ü c']);
    expect(request.headers.get('Accept')).toBe('text/event-stream');
    expect(request.headers.get('X-CSRF-Token')).toBe('csrf-1');
    expect(request.credentials).toBe('same-origin');
    expect(request.cache).toBe('no-store');
    expect([a2.states(), b.states(), c.states()]).toEqual([['up'], ['up'], ['up']]);
  });

  it('gives each listener the events of its own id only', async () => {
    const live = stream();
    const [a, a2, b] = [recorder(), recorder(), recorder()];
    live.watch('page:a', a.listener);
    live.watch('page:a', a2.listener);
    live.watch('page:b', b.listener);
    await vi.waitFor(() => expect(connections).toHaveLength(1));
    const free = { resourceId: 'page:b', change: 'released', status: 'free', ttlMs: 1, now: 2 };
    connections[0]?.write(frame(lockEvent('page:a')) + frame(free) + frame(lockEvent('other')));

    await vi.waitFor(() => expect(b.events()).toEqual([free]));
    expect(a.events()).toEqual([lockEvent('page:a')]);
    expect(a2.events()).toEqual([lockEvent('page:a')]);
  });

  it('parses pieces split anywhere, even inside a UTF-8 character, and CRLF lines', async () => {
    const live = stream();
    const a = recorder();
    live.watch('page:a', a.listener);
    await vi.waitFor(() => expect(connections).toHaveLength(1));
    const event = lockEvent('page:a', {}, 'Zoë 🙂');
    const bytes = encoder.encode(`: ping\r\nevent: lock\r\ndata: ${JSON.stringify(event)}\r\n\r\n`);
    // Cut inside "ë" (2 bytes) and inside "🙂" (4 bytes), and between CR and LF.
    const e = bytes.indexOf(0xc3);
    const emoji = bytes.indexOf(0xf0);
    const crlf = bytes.indexOf(0x0d, emoji); // the CR ending the data line
    const cutsAt = [e + 1, emoji + 2, emoji + 3, crlf + 1];
    let from = 0;
    for (const at of cutsAt) {
      connections[0]?.write(bytes.slice(from, at));
      from = at;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(a.events()).toEqual([]);
    connections[0]?.write(bytes.slice(from));

    await vi.waitFor(() => expect(a.events()).toEqual([event]));
  });

  it('drops data that is not JSON, not shaped as a lock event, or not on the lock event', async () => {
    const live = stream();
    const a = recorder();
    live.watch('page:a', a.listener);
    await vi.waitFor(() => expect(connections).toHaveLength(1));
    connections[0]?.write(
      'event: lock\ndata: {not json\n\n' +
        'event: lock\ndata: null\n\n' +
        'event: lock\ndata: "page:a"\n\n' +
        `event: lock\ndata: ${JSON.stringify({ ...lockEvent('page:a'), change: 42 })}\n\n` +
        `event: lock\ndata: ${JSON.stringify({ ...lockEvent('page:a'), lock: null })}\n\n` +
        `event: lock\ndata: ${JSON.stringify({ resourceId: 'page:a', change: 'lapsed', status: 'free' })}\n\n` +
        `event: other\ndata: ${JSON.stringify(lockEvent('page:a'))}\n\n` +
        `data: ${JSON.stringify(lockEvent('page:a'))}\n\n` +
        frame({ ...lockEvent('page:a'), change: 'queued' }) +
        frame(lockEvent('page:a', { change: 'taken-over' })),
    );

    await vi.waitFor(() => expect(a.events()).toHaveLength(2));
    // A kind this client does not know (a newer server's) still carries the status: passed on.
    expect(a.events()).toEqual([
      { ...lockEvent('page:a'), change: 'queued' },
      lockEvent('page:a', { change: 'taken-over' }),
    ]);
    expect(a.states()).toEqual(['up']);
  });

  it('tells a second watcher of a streamed id "up" at once, without a new request', async () => {
    const live = stream();
    const [a, late] = [recorder(), recorder()];
    live.watch('page:a', a.listener);
    await vi.waitFor(() => expect(a.states()).toEqual(['up']));

    live.watch('page:a', late.listener);
    await Promise.resolve();
    expect(late.states()).toEqual(['up']);
    connections[0]?.write(frame(lockEvent('page:a')));
    await vi.waitFor(() => expect(late.events()).toEqual([lockEvent('page:a')]));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(connections).toHaveLength(1);
  });
});

describe('createLockStream: the id set changes', () => {
  it('re-opens once, debounced, with the new set; the ids it kept are not told "down"', async () => {
    const live = stream();
    const a = recorder();
    live.watch('page:a', a.listener);
    await vi.waitFor(() => expect(a.states()).toEqual(['up']));

    // A list of badges mounting at once: one re-open, not one per badge.
    const badges = ['page:b', 'page:c', 'page:d'].map((id) => {
      const badge = recorder();
      return { id, badge, unwatch: live.watch(id, badge.listener) };
    });
    await vi.waitFor(() => expect(connections).toHaveLength(2));
    expect(connections[1]?.ids).toEqual(['page:a', 'page:b', 'page:c', 'page:d']);
    await vi.waitFor(() => expect(connections[0]?.released).toBe(true));
    await vi.waitFor(() =>
      expect(badges.map(({ badge }) => badge.states())).toEqual([['up'], ['up'], ['up']]),
    );
    expect(a.states()).toEqual(['up']);

    badges[1]?.unwatch();
    await vi.waitFor(() => expect(connections).toHaveLength(3));
    expect(connections[2]?.ids).toEqual(['page:a', 'page:b', 'page:d']);
    await vi.waitFor(() => expect(open()).toEqual([connections[2]]));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(connections).toHaveLength(3);
    expect(a.states()).toEqual(['up']);
  });

  it('the last unwatch closes the stream at once; a watch after it opens one new request', async () => {
    const live = stream();
    const a = recorder();
    const stop = live.watch('page:a', a.listener);
    await vi.waitFor(() => expect(a.states()).toEqual(['up']));
    const again = live.watch('page:a', () => {});
    stop();
    again();
    live.watch('page:a', a.listener);
    // The last unwatch closed it at once; the watch after opens it again (one request).
    await vi.waitFor(() => expect(connections).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(connections).toHaveLength(2);
    expect(open()).toEqual([connections[1]]);
  });

  it(`streams the first ${MAX_BATCH_IDS} ids and tells the others "down" (they poll) until one makes room`, async () => {
    const live = stream();
    const unwatches: Array<() => void> = [];
    const first = recorder();
    unwatches.push(live.watch('page:0', first.listener));
    for (let index = 1; index < MAX_BATCH_IDS; index += 1) {
      unwatches.push(live.watch(`page:${index}`, () => {}));
    }
    const extra = recorder();
    live.watch('page:extra', extra.listener);

    await vi.waitFor(() => expect(first.states()).toEqual(['up']));
    expect(connections).toHaveLength(1);
    expect(connections[0]?.ids).toHaveLength(MAX_BATCH_IDS);
    expect(connections[0]?.ids).not.toContain('page:extra');
    expect(extra.states()).toEqual(['down']);

    unwatches[0]?.();
    await vi.waitFor(() => expect(extra.states()).toEqual(['down', 'up']));
    expect(connections).toHaveLength(2);
    expect(connections[1]?.ids).toHaveLength(MAX_BATCH_IDS);
    expect(connections[1]?.ids).toContain('page:extra');
  });
});

describe('createLockStream: failures', () => {
  it('says "down" when the server ends the stream, then reconnects and says "up"', async () => {
    let token = 0;
    const headers = vi.fn(() => ({ 'X-CSRF-Token': `csrf-${++token}` }));
    // A wait long enough to see "down" before the reconnect.
    const live = stream({ headers, retry: { minMs: 300, maxMs: 1_000 } });
    const [a, b] = [recorder(), recorder()];
    live.watch('page:a', a.listener);
    live.watch('page:b', b.listener);
    await vi.waitFor(() => expect(a.states()).toEqual(['up']));
    connections[0]?.write(frame(lockEvent('page:a'), '41'));
    await vi.waitFor(() => expect(a.events()).toHaveLength(1));

    connections[0]?.end();
    await vi.waitFor(() => expect(a.states()).toEqual(['up', 'down']));
    expect(b.states()).toEqual(['up', 'down']);
    await vi.waitFor(() => expect(a.states()).toEqual(['up', 'down', 'up']));
    expect(b.states()).toEqual(['up', 'down', 'up']);

    expect(connections).toHaveLength(2);
    // Asked again per connection.
    expect(headers).toHaveBeenCalledTimes(2);
    expect(connections.map(({ request }) => request.headers.get('X-CSRF-Token'))).toEqual([
      'csrf-1',
      'csrf-2',
    ]);
  });

  it.each([
    ['a 500', () => HttpResponse.json({ error: { code: 'internal' } }, { status: 500 })],
    ['a JSON 200', () => HttpResponse.json({ status: 'free', ttlMs: 1, now: 1 })],
    ['a network error', () => HttpResponse.error()],
  ])('says "down" (never "up") to %s, and tries again', async (_name, answer) => {
    let requests = 0;
    network.use(
      http.get(`${base}/events`, () => {
        requests += 1;
        return answer();
      }),
    );
    const a = recorder();
    stream().watch('page:a', a.listener);
    await vi.waitFor(() => expect(requests).toBeGreaterThanOrEqual(2));
    expect(a.states()).toEqual(['down']);
  });

  it('says "down" when not a byte (not even a heartbeat) came for idleMs, and reconnects', async () => {
    const live = stream({ idleMs: 80 });
    const a = recorder();
    live.watch('page:a', a.listener);
    await vi.waitFor(() => expect(a.states()).toEqual(['up']));
    // Heartbeats keep it up well past idleMs…
    for (let beat = 0; beat < 6; beat += 1) {
      connections[0]?.write(': ping\n\n');
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    expect(a.states()).toEqual(['up']);
    expect(connections).toHaveLength(1);
    // …silence does not.
    await vi.waitFor(() => expect(a.states()).toEqual(['up', 'down']));
    expect(connections[0]?.released).toBe(true);
    await vi.waitFor(() => expect(connections).toHaveLength(2));
  });
});

describe('createLockStream: the backoff schedule (fake timers)', () => {
  function fakeTimers() {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    // The top of the jitter range: each wait is the full ceiling.
    vi.spyOn(Math, 'random').mockReturnValue(1);
  }

  it('doubles the wait from minMs up to maxMs, with jitter below the ceiling', async () => {
    fakeTimers();
    const times: number[] = [];
    network.use(
      http.get(`${base}/events`, () => {
        times.push(Date.now());
        return HttpResponse.json({ error: { code: 'internal' } }, { status: 500 });
      }),
    );
    const live = createLockStream({ url, retry: { minMs: 1_000, maxMs: 10_000 } });
    streams.push(live);
    live.watch('page:a', () => {});
    await vi.advanceTimersByTimeAsync(60_000);
    const waits = times.slice(1).map((time, index) => time - (times[index] as number));
    expect(waits.slice(0, 6)).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);

    // At the bottom of the jitter range a wait is half its ceiling, never under minMs.
    vi.mocked(Math.random).mockReturnValue(0);
    live.close();
    times.length = 0;
    live.watch('page:a', () => {});
    await vi.advanceTimersByTimeAsync(30_000);
    const low = times.slice(1).map((time, index) => time - (times[index] as number));
    expect(low.slice(0, 5)).toEqual([1_000, 1_000, 2_000, 4_000, 5_000]);
  });

  it.each([401, 403, 404, 405])('retries a %i only at the slowest rate', async (status) => {
    fakeTimers();
    let requests = 0;
    network.use(
      http.get(`${base}/events`, () => {
        requests += 1;
        return HttpResponse.json({ error: { code: 'forbidden' } }, { status });
      }),
    );
    const a = recorder();
    const live = createLockStream({ url, retry: { minMs: 1_000, maxMs: 30_000 } });
    streams.push(live);
    live.watch('page:a', a.listener);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(requests).toBe(1);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(requests).toBe(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(requests).toBe(4);
    expect(a.states()).toEqual(['down']);
  });

  it("takes the server's retry: as the least wait", async () => {
    fakeTimers();
    const times: number[] = [];
    network.use(
      http.get(`${base}/events`, () => {
        times.push(Date.now());
        return new HttpResponse('retry: 5000\n\n', {
          headers: { 'Content-Type': 'text/event-stream' },
        });
      }),
    );
    const live = createLockStream({ url, retry: { minMs: 1_000, maxMs: 30_000 } });
    streams.push(live);
    live.watch('page:a', () => {});
    await vi.advanceTimersByTimeAsync(20_000);
    const waits = times.slice(1).map((time, index) => time - (times[index] as number));
    expect(waits.slice(0, 2)).toEqual([5_000, 10_000]);
  });

  it('starts over from minMs after a stream stayed up a while', async () => {
    fakeTimers();
    const times: number[] = [];
    let connection: Connection | undefined;
    network.use(
      http.get(`${base}/events`, ({ request }) => {
        times.push(Date.now());
        if (times.length <= 3) return HttpResponse.json({}, { status: 500 });
        let body!: ReadableStreamDefaultController<Uint8Array>;
        connection = {
          request,
          ids: [],
          released: false,
          write: (piece) => body.enqueue(typeof piece === 'string' ? encoder.encode(piece) : piece),
          end: () => body.close(),
        };
        return new HttpResponse(
          new ReadableStream<Uint8Array>({
            start(controller) {
              body = controller;
            },
          }),
          { headers: { 'Content-Type': 'text/event-stream' } },
        );
      }),
    );
    const live = createLockStream({ url, retry: { minMs: 1_000, maxMs: 30_000 } });
    streams.push(live);
    live.watch('page:a', () => {});
    // 500, 500, 500 (waits 1 s, 2 s, 4 s), then up.
    await vi.advanceTimersByTimeAsync(8_000);
    expect(times).toHaveLength(4);
    for (let beat = 0; beat < 4; beat += 1) {
      await vi.advanceTimersByTimeAsync(20_000);
      connection?.write(': ping\n\n');
    }
    connection?.end();
    await vi.advanceTimersByTimeAsync(999);
    expect(times).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(times).toHaveLength(5);
  });
});

describe('createLockStream: nothing leaks', () => {
  it('close() lets go of the request and leaves no timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const live = createLockStream({ url });
    const a = recorder();
    live.watch('page:a', a.listener);
    live.watch('page:b', () => {});
    await vi.advanceTimersByTimeAsync(30);
    expect(open()).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1); // the idle watchdog

    live.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(open()).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    connections[0]?.write(frame(lockEvent('page:a')));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(connections).toHaveLength(1);
    expect(a.heard).toEqual([{ type: 'up' }]);
  });

  it('the last unwatch lets go of the request, and of a pending retry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const live = createLockStream({ url });
    streams.push(live);
    const unwatchA = live.watch('page:a', () => {});
    const unwatchB = live.watch('page:b', () => {});
    await vi.advanceTimersByTimeAsync(30);
    unwatchA();
    await vi.advanceTimersByTimeAsync(30);
    expect(connections).toHaveLength(2);
    expect(open()).toEqual([connections[1]]);
    unwatchB();
    unwatchB(); // twice is harmless
    await vi.advanceTimersByTimeAsync(0);
    expect(open()).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);

    network.use(http.get(`${base}/events`, () => HttpResponse.json({}, { status: 500 })));
    const unwatch = live.watch('page:a', () => {});
    await vi.advanceTimersByTimeAsync(30);
    expect(vi.getTimerCount()).toBe(1); // the retry
    unwatch();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an unwatch from before close() does not end a watch made after it', async () => {
    const live = stream();
    const old = live.watch('page:a', () => {});
    live.close();
    const a = recorder();
    live.watch('page:a', a.listener);
    old();
    await vi.waitFor(() => expect(a.states()).toEqual(['up']));
    expect(open()).toHaveLength(1);
  });
});
