import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { liveHubStats } from '../../server-adapter/live/live-hub';
import { createLockRouteHandlers } from '../../server-adapter/next/index';
import { createLockService } from '../../server-adapter/service/lock-service';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';
import { eventually, SseReader } from './event-stream-support';

const alice: LockUser = { id: 'u-alice', name: 'Alice' };
const bob: LockUser = { id: 'u-bob', name: 'Bob' };
const users: Record<string, LockUser> = { [alice.id]: alice, [bob.id]: bob };
const url = (path: string) => `http://localhost:3000/api/locks${path}`;
const context = (...lock: string[]) => ({ params: Promise.resolve(lock.length ? { lock } : {}) });

describe('createLockRouteHandlers serves the event stream from the same route file', () => {
  it('GET passes the streaming Response through untouched; POSTs to the route reach it', async () => {
    const service = createLockService({ store: createMemoryLockStore(), ttl: 60_000 });
    // What `app/api/locks/[[...lock]]/route.ts` exports.
    const route = createLockRouteHandlers({
      service,
      heartbeatMs: 50,
      getUser: (request) => users[request.headers.get('X-Session') ?? ''] ?? null,
    });
    const client = new AbortController();
    const response = await route.GET(
      new Request(url('/events?ids=page%3A1'), {
        headers: { Accept: 'text/event-stream', 'X-Session': bob.id },
        signal: client.signal,
      }),
      context('events'),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
    expect(response.body).toBeInstanceOf(ReadableStream);
    const reader = new SseReader(response.body as ReadableStream<Uint8Array>);
    expect(await reader.lockAt(1)).toMatchObject({ change: 'snapshot', status: 'free' });

    const acquired = await route.POST(
      new Request(url('/page%3A1'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Session': alice.id },
        body: JSON.stringify({ clientId: 'tab-alice' }),
      }),
      context('page:1'),
    );
    expect(acquired.status).toBe(200);
    expect(await reader.lockAt(2)).toMatchObject({ change: 'acquired', lock: { holder: alice } });
    await reader.until((r) => r.messages.some((m) => m.kind === 'comment' && m.text === 'ping'));

    // Next aborts the request's signal when the browser goes away: that frees the stream, even
    // once nobody but the stream holds the Request (undici links the signals through it).
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 10));
    client.abort();
    await eventually(() => liveHubStats(service).streams === 0);
    expect(liveHubStats(service)).toMatchObject({ resources: 0, timers: 0, subscribed: false });
    await reader.until((r) => r.ended);
  });
});
