import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveHubStats } from '../../server-adapter/live/live-hub';
import { createMemoryLockServer } from '../../src/memory/memory-server';
import { createLockHandlers } from '../../src/msw/lock-handlers';
import type { LockUser } from '../../src/protocol/protocol';
import { eventually, SseReader } from '../server/event-stream-support';

const alice: LockUser = { id: 'u-alice', name: 'Alice' };
const bob: LockUser = { id: 'u-bob', name: 'Bob' };
const users: Record<string, LockUser> = { [alice.id]: alice, [bob.id]: bob };

const memory = createMemoryLockServer({ ttl: 30_000, heartbeatMs: 40 });
const msw = setupServer(
  ...createLockHandlers({
    baseUrl: '/api/locks',
    server: memory,
    user: (request) => users[request.headers.get('X-User') ?? ''] ?? null,
  }),
);
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
afterAll(() => msw.close());

const stream = async (ids: string[], as: LockUser) => {
  const query = ids.map((id) => `ids=${encodeURIComponent(id)}`).join('&');
  const response = await fetch(`http://app.test/api/locks/events?${query}`, {
    headers: { Accept: 'text/event-stream', 'X-User': as.id },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
  return new SseReader(response.body as ReadableStream<Uint8Array>);
};

describe('page-lock/msw serves the event stream from the memory server', () => {
  it('streams the snapshot, changes, lapses after advance() and heartbeats through real fetch', async () => {
    const reader = await stream(['page:1'], bob);
    expect(await reader.lockAt(1)).toMatchObject({ change: 'snapshot', status: 'free' });

    const acquired = await fetch('http://app.test/api/locks/page%3A1', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-User': alice.id },
      body: JSON.stringify({ clientId: 'tab-alice' }),
    });
    expect(acquired.status).toBe(200);
    const { token } = (await acquired.json()) as { token: string };
    expect(await reader.lockAt(2)).toMatchObject({
      change: 'acquired',
      status: 'locked',
      lock: { holder: alice },
      isSelf: false,
    });

    memory.advance(31_000);
    expect(await reader.lockAt(3)).toMatchObject({ change: 'lapsed', status: 'free' });
    await reader.until((r) => r.messages.some((m) => m.kind === 'comment' && m.text === 'ping'));
    expect(reader.text).not.toContain(token);
    expect(reader.text).not.toContain('tab-alice');

    // msw/node tees every mocked response for its `response:mocked` event and never reads that
    // copy: a cancel reaches the stream once the copy is garbage-collected (undici then cancels
    // it), and only then does the reader's cancel() settle. A collection is forced here.
    const cancelled = reader.cancel();
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await eventually(() => {
      gc();
      return liveHubStats(memory.service).streams === 0;
    }, 5_000);
    await cancelled;
    expect(liveHubStats(memory.service)).toEqual({
      streams: 0,
      resources: 0,
      timers: 0,
      subscribed: false,
    });
  });

  it('keeps GET /api/locks/events without the Accept header a status answer', async () => {
    const answer = await fetch('http://app.test/api/locks/events', {
      headers: { 'X-User': alice.id },
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ status: 'free' });
  });
});
