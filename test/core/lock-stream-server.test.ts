import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLockHandler } from '../../server-adapter/handler/lock-handler';
import { liveHubStats } from '../../server-adapter/live/live-hub';
import { toNodeHandler } from '../../server-adapter/node/to-node-handler';
import { createLockService, type LockService } from '../../server-adapter/service/lock-service';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import { createLockStream, type LockStream, type LockStreamNews } from '../../src/core/lock-stream';
import type { LockUser } from '../../src/protocol/protocol';

/**
 * The transport against the real stream: `createLockHandler` over a real service and the memory
 * store, served by `node:http`, read with real `fetch`.
 */

const alice: LockUser = { id: 'u-alice', name: 'Alice' };
const bob: LockUser = { id: 'u-bob', name: 'Bob' };
const carol: LockUser = { id: 'u-carol', name: 'Carol' };
const users: Record<string, LockUser> = { alice, bob, carol };

let server: Server;
let service: LockService;
let base: string;
let streams: LockStream[];
let eventRequests: Array<{ cookie: string | undefined; url: string }>;

beforeEach(async () => {
  streams = [];
  eventRequests = [];
  service = createLockService({
    store: createMemoryLockStore(),
    ttl: 90_000,
    canTakeOver: (user) => user.id === carol.id,
  });
  const handler = createLockHandler({
    service,
    basePath: '/api/locks',
    getUser: (request) => {
      const session = /session=(\w+)/.exec(request.headers.get('Cookie') ?? '')?.[1];
      return session ? (users[session] ?? null) : null;
    },
  });
  const node = toNodeHandler(handler);
  server = createServer((req, res) => {
    if (req.url?.includes('/events'))
      eventRequests.push({ cookie: req.headers.cookie, url: req.url });
    void node(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/locks`;
});

afterEach(async () => {
  for (const stream of streams) stream.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const url = (ids: readonly string[]) =>
  `${base}/events?${ids.map((id) => `ids=${encodeURIComponent(id)}`).join('&')}`;

function streamAs(session: string | null): LockStream {
  const stream = createLockStream({
    url,
    headers: () => (session ? { Cookie: `session=${session}` } : undefined),
    retry: { minMs: 50, maxMs: 200 },
  });
  streams.push(stream);
  return stream;
}

function recorder() {
  const heard: LockStreamNews[] = [];
  return {
    listener: (news: LockStreamNews) => heard.push(news),
    states: () => heard.filter((news) => news.type !== 'event').map((news) => news.type),
    events: () => heard.flatMap((news) => (news.type === 'event' ? [news.event] : [])),
  };
}

async function post(path: string, session: string, body: unknown) {
  const response = await fetch(`${base}/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: `session=${session}` },
    body: JSON.stringify(body),
  });
  // A release answers 204, with no body.
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as { token: string; lock: { fence: number } };
}

describe('createLockStream against createLockHandler', () => {
  it('hears the snapshot, then an acquire, a takeover and a release of its ids, on one stream', async () => {
    const live = streamAs('bob');
    const [one, two] = [recorder(), recorder()];
    live.watch('page:1', one.listener);
    live.watch('page:2', two.listener);
    await vi.waitFor(() => expect(one.events()).toHaveLength(1));
    expect(one.states()).toEqual(['up']);
    expect(one.events()[0]).toMatchObject({
      resourceId: 'page:1',
      change: 'snapshot',
      status: 'free',
    });
    await vi.waitFor(() => expect(two.events()).toHaveLength(1));

    const held = await post('page:1', 'alice', { clientId: 'tab-alice' });
    await vi.waitFor(() => expect(one.events()).toHaveLength(2));
    expect(one.events()[1]).toMatchObject({
      resourceId: 'page:1',
      change: 'acquired',
      status: 'locked',
      isSelf: false,
      lock: { holder: { name: 'Alice' } },
    });
    // What a GET would show, never a token or a client id.
    expect(JSON.stringify(one.events())).not.toContain(held.token);
    expect(JSON.stringify(one.events())).not.toContain('tab-alice');

    const taken = await post('page:1/takeover', 'carol', {
      clientId: 'tab-carol',
      expectedFence: held.lock.fence,
    });
    await vi.waitFor(() => expect(one.events()).toHaveLength(3));
    expect(one.events()[2]).toMatchObject({
      change: 'taken-over',
      lock: { holder: { name: 'Carol' } },
    });

    await post('page:1/release', 'carol', { token: taken.token });
    await vi.waitFor(() => expect(one.events()).toHaveLength(4));
    expect(one.events()[3]).toMatchObject({ change: 'released', status: 'free' });

    expect(two.events()).toHaveLength(1);
    expect(eventRequests).toHaveLength(1);
    expect(eventRequests[0]?.cookie).toBe('session=bob');
    expect(liveHubStats(service).streams).toBe(1);
  });

  it('re-opens with the new id set (one stream on the server) and closes it when asked', async () => {
    const live = streamAs('bob');
    const one = recorder();
    live.watch('page:1', one.listener);
    await vi.waitFor(() => expect(one.events()).toHaveLength(1));
    const three = recorder();
    live.watch('page:3', three.listener);
    await vi.waitFor(() => expect(three.events()).toHaveLength(1));
    expect(three.events()[0]).toMatchObject({ resourceId: 'page:3', change: 'snapshot' });
    expect(eventRequests.map((request) => request.url)).toEqual([
      '/api/locks/events?ids=page%3A1',
      '/api/locks/events?ids=page%3A1&ids=page%3A3',
    ]);
    await vi.waitFor(() => expect(liveHubStats(service).streams).toBe(1));
    expect(one.states()).toEqual(['up']);

    live.close();
    await vi.waitFor(() => expect(liveHubStats(service).streams).toBe(0));
    expect(liveHubStats(service).resources).toBe(0);
  });

  it('says "down" to a request without a session (401) and never "up"', async () => {
    const live = streamAs(null);
    const one = recorder();
    live.watch('page:1', one.listener);
    await vi.waitFor(() => expect(one.states()).toEqual(['down']));
    expect(eventRequests).toHaveLength(1);
    // A 401 is retried only at the slowest rate (here 200 ms).
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(eventRequests).toHaveLength(1);
    expect(liveHubStats(service).streams).toBe(0);
  });

  it('says "down" when the server goes away, and "up" again when it is back', async () => {
    const live = streamAs('bob');
    const one = recorder();
    live.watch('page:1', one.listener);
    await vi.waitFor(() => expect(one.states()).toEqual(['up']));
    server.closeAllConnections();
    await vi.waitFor(() => expect(one.states()).toEqual(['up', 'down', 'up']));
    await vi.waitFor(() => expect(one.events().at(-1)).toMatchObject({ change: 'snapshot' }));
    expect(eventRequests.length).toBeGreaterThanOrEqual(2);
  });
});
