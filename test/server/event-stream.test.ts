import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { createLockHandler } from '../../server-adapter/handler/lock-handler';
import { liveHubStats } from '../../server-adapter/live/live-hub';
import { createSqliteLockStore } from '../../server-adapter/sqlite/sqlite-store';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import { eventually } from './event-stream-support';
import {
  alice,
  BASE,
  bob,
  carol,
  eventsQuery,
  type LiveServer,
  type LiveServerOptions,
  startLiveServer,
} from './live-stream-harness';

const servers: LiveServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function live(options: LiveServerOptions = {}): Promise<LiveServer> {
  const server = await startLiveServer(options);
  servers.push(server);
  return server;
}

/** Waits until the server's hub holds nothing: no stream, watcher, timer or feed listener. */
async function expectHubEmpty(server: LiveServer): Promise<void> {
  await eventually(() => liveHubStats(server.service).streams === 0);
  expect(liveHubStats(server.service)).toEqual({
    streams: 0,
    resources: 0,
    timers: 0,
    subscribed: false,
  });
  expect(server.feedListeners()).toBe(0);
}

const stores: [string, () => LockStore][] = [
  ['memory', () => createMemoryLockStore()],
  [
    'sqlite file',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'page-lock-live-'));
      dirs.push(dir);
      return createSqliteLockStore({ filename: join(dir, 'locks.db') });
    },
  ],
];

describe.each(stores)('the event stream over the %s store', (_, makeStore) => {
  it('opens with retry and one snapshot per id, as a GET shows this user, with the stream headers', async () => {
    const server = await live({ store: makeStore() });
    const held = await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
    expect(held.status).toBe('held');

    const { response, reader } = await server.stream(['page:1', 'page:2'], bob);
    expect(response.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('Cache-Control')).toBe('no-store, no-transform');
    expect(response.headers.get('X-Accel-Buffering')).toBe('no');
    expect(response.headers.get('Page-Lock-Version')).toBe('1');
    expect(response.headers.get('Connection')).toBe('keep-alive');

    const [first, second] = await reader.until((r) => (r.locks.length >= 2 ? r.locks : undefined));
    expect(reader.messages[0]).toEqual({ kind: 'retry', ms: 3000 });
    expect(first).toEqual({
      resourceId: 'page:1',
      change: 'snapshot',
      status: 'locked',
      lock: held.status === 'held' ? held.lock : null,
      isSelf: false,
      canTakeOver: false,
      ttlMs: 60_000,
      now: expect.any(Number),
    });
    expect(second).toEqual({
      resourceId: 'page:2',
      change: 'snapshot',
      status: 'free',
      ttlMs: 60_000,
      now: expect.any(Number),
    });
    const ids = reader.messages.flatMap((m) => (m.kind === 'event' ? [m.id] : []));
    expect(ids).toEqual(['1', '2']);
    await reader.cancel();
  });

  it('sends each acquire, release, takeover and force-release by another user as one event', async () => {
    const server = await live({
      store: makeStore(),
      canTakeOver: (user) => user.id === carol.id,
    });
    const { reader } = await server.stream(['page:1'], bob);
    await reader.lockAt(1);

    const granted = await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
    if (granted.status !== 'held') throw new Error('not granted');
    const acquired = await reader.lockAt(2);
    expect(acquired).toMatchObject({
      change: 'acquired',
      status: 'locked',
      lock: { holder: alice, fence: granted.lock.fence },
      isSelf: false,
      canTakeOver: false,
    });

    const taken = await server.service.takeOver('page:1', carol, {
      clientId: 'tab-carol',
      expectedFence: granted.lock.fence,
    });
    if (taken.status !== 'held') throw new Error('not taken over');
    expect(await reader.lockAt(3)).toMatchObject({
      change: 'taken-over',
      status: 'locked',
      lock: { holder: carol, fence: taken.lock.fence },
    });

    await server.service.release('page:1', taken.token);
    expect(await reader.lockAt(4)).toMatchObject({ change: 'released', status: 'free' });

    await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
    expect(await reader.lockAt(5)).toMatchObject({ change: 'acquired', status: 'locked' });
    await server.service.forceRelease('page:1');
    expect(await reader.lockAt(6)).toMatchObject({ change: 'force-released', status: 'free' });

    // One event per change, nothing for the unwatched resource, and never a secret.
    await server.service.acquire('page:other', alice, { clientId: 'tab-alice' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reader.locks).toHaveLength(6);
    for (const secret of [granted.token, taken.token, 'tab-alice', 'tab-carol']) {
      expect(reader.text).not.toContain(secret);
    }
    expect(reader.text).not.toMatch(/token|clientId|"held"/);
    await reader.cancel();
    await expectHubEmpty(server);
  });
});

describe('what each stream is shown', () => {
  it('isSelf and canTakeOver per stream user, from one look per change', async () => {
    const server = await live({ canTakeOver: (user) => user.id === carol.id });
    const aliceStream = await server.stream(['page:1'], alice);
    const bobStream = await server.stream(['page:1'], bob);
    const carolStream = await server.stream(['page:1'], carol);
    for (const { reader } of [aliceStream, bobStream, carolStream]) await reader.lockAt(1);

    await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
    const views = await Promise.all(
      [aliceStream, bobStream, carolStream].map(({ reader }) => reader.lockAt(2)),
    );
    expect(
      views.map((view) => view.status === 'locked' && [view.isSelf, view.canTakeOver]),
    ).toEqual([
      [true, true],
      [false, false],
      [false, true],
    ]);
    // The holder's own tab has no client id on the stream: it is told `locked`, never `held`.
    expect(views[0]?.status).toBe('locked');
    for (const { reader } of [aliceStream, bobStream, carolStream]) await reader.cancel();
    await expectHubEmpty(server);
  });

  it('says "forbidden" once for an id the user may not observe, and never watches it', async () => {
    const server = await live({
      authorize: (user, id) => !(user.id === bob.id && id.startsWith('secret:')),
    });
    const { reader } = await server.stream(['secret:1', 'page:1'], bob);
    const [refused, allowed] = await reader.until((r) =>
      r.locks.length >= 2 ? r.locks : undefined,
    );
    expect(refused).toEqual({
      resourceId: 'secret:1',
      change: 'snapshot',
      status: 'forbidden',
      now: expect.any(Number),
    });
    expect(allowed).toMatchObject({ resourceId: 'page:1', status: 'free' });
    expect(liveHubStats(server.service).resources).toBe(1);

    await server.service.acquire('secret:1', alice, { clientId: 'tab-alice' });
    await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
    expect(await reader.lockAt(3)).toMatchObject({ resourceId: 'page:1', change: 'acquired' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reader.locks).toHaveLength(3);
    await reader.cancel();
  });
});

describe('one look per change, one at a time', () => {
  it('a burst of changes ends at the current state, looked up no more often than it changed', async () => {
    const server = await live();
    const { reader } = await server.stream(['page:1'], bob);
    await reader.lockAt(1);
    // Twenty grants and releases without waiting: the hub looks one at a time and, for changes
    // that came during a look, once more after it.
    for (let cycle = 0; cycle < 20; cycle += 1) {
      const granted = await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
      if (granted.status !== 'held') throw new Error('not granted');
      await server.service.release('page:1', granted.token);
    }
    await server.service.acquire('page:1', carol, { clientId: 'tab-carol' });
    const last = await reader.until((r) => {
      const event = r.locks.at(-1);
      return event?.status === 'locked' && event.lock.holder.id === carol.id ? event : undefined;
    });
    expect(last).toMatchObject({ change: 'acquired', status: 'locked' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reader.locks.at(-1)).toEqual(last);
    expect(reader.locks.length - 1).toBeLessThanOrEqual(41);
    await reader.cancel();
  });
});

describe('lapses: a timer at the expiresAt last seen, nothing sweeps', () => {
  it('sends "lapsed" once the lease runs out', async () => {
    const server = await live({ ttl: 300 });
    const granted = await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
    if (granted.status !== 'held') throw new Error('not granted');
    const { reader } = await server.stream(['page:1'], bob);
    expect(await reader.lockAt(1)).toMatchObject({ status: 'locked' });
    expect(liveHubStats(server.service).timers).toBe(1);

    const lapsed = await reader.lockAt(2);
    expect(lapsed).toMatchObject({ resourceId: 'page:1', change: 'lapsed', status: 'free' });
    expect(lapsed.now).toBeGreaterThanOrEqual(granted.lock.expiresAt);
    expect(liveHubStats(server.service).timers).toBe(0);
    await reader.cancel();
    await expectHubEmpty(server);
  });

  it('stays silent while the holder refreshes, and lapses after the last refresh', async () => {
    const server = await live({ ttl: 300 });
    const granted = await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
    if (granted.status !== 'held') throw new Error('not granted');
    const { reader } = await server.stream(['page:1'], bob);
    await reader.lockAt(1);

    let lastExpiry = granted.lock.expiresAt;
    for (let refresh = 0; refresh < 6; refresh += 1) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      const refreshed = await server.service.acquire('page:1', alice, {
        clientId: 'tab-alice',
        token: granted.token,
      });
      if (refreshed.status !== 'held') throw new Error('refresh failed');
      lastExpiry = refreshed.lock.expiresAt;
    }
    // 900 ms, three TTLs: every timer fired, found the lease refreshed, and rearmed silently.
    expect(reader.locks).toHaveLength(1);
    const lapsed = await reader.lockAt(2);
    expect(lapsed).toMatchObject({ change: 'lapsed', status: 'free' });
    expect(lapsed.now).toBeGreaterThanOrEqual(lastExpiry);
    await reader.cancel();
  });
});

describe('the route and its refusals', () => {
  it('answers 400 naming "ids" before any stream starts: none, 101, or a bad one', async () => {
    const server = await live();
    const tooMany = Array.from({ length: 101 }, (_, index) => `page:${index}`);
    const cases: [string, RegExp][] = [
      ['', /"ids" must name at least one resource/],
      [eventsQuery(tooMany), /"ids" must name at most 100 resources/],
      ['ids=page%3A1&ids=', /"ids" holds an id that must not be empty/],
      ['ids=..', /"ids" holds an id that must not be "\." or "\.\."/],
    ];
    for (const [query, message] of cases) {
      const answer = await server.open([], alice, { query });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('Content-Type')).toMatch(/^application\/json/);
      const body = (await answer.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('bad-request');
      expect(body.error.message).toMatch(message);
    }
    const exactly100 = await server.open(tooMany.slice(0, 100), alice);
    expect(exactly100.status).toBe(200);
    await exactly100.body?.cancel();
    await expectHubEmpty(server);
  });

  it('needs a session: 401 without one', async () => {
    const server = await live();
    const answer = await server.open(['page:1'], null);
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('keeps GET {base}/events without the Accept header the status of the resource "events"', async () => {
    const server = await live();
    await server.service.acquire('events', alice, { clientId: 'tab-alice' });
    for (const accept of [undefined, 'application/json', 'text/event-stream;q=0']) {
      const answer = await fetch(`${server.origin}${BASE}/events?ids=page%3A1`, {
        headers: { 'X-User': bob.id, ...(accept ? { Accept: accept } : {}) },
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('Content-Type')).toMatch(/^application\/json/);
      expect(await answer.json()).toMatchObject({
        status: 'locked',
        lock: { resourceId: 'events', holder: alice },
      });
    }
  });

  it('sends a ": ping" comment every heartbeatMs', async () => {
    const server = await live({ handler: { heartbeatMs: 40 } });
    const { reader } = await server.stream(['page:1'], alice);
    await reader.until(
      (r) => r.messages.filter((m) => m.kind === 'comment' && m.text === 'ping').length >= 2,
    );
    await reader.cancel();
  });

  it('refuses a stream past maxStreams with 503 busy and Retry-After', async () => {
    const server = await live({ handler: { maxStreams: 1 } });
    const first = await server.stream(['page:1'], alice);
    const second = await server.open(['page:1'], bob);
    expect(second.status).toBe(503);
    expect(second.headers.get('Retry-After')).toBe('10');
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('busy');
    await first.reader.cancel();
    await expectHubEmpty(server);
    const again = await server.stream(['page:1'], bob);
    await again.reader.lockAt(1);
    await again.reader.cancel();
  });

  it('validates heartbeatMs and maxStreams', async () => {
    const server = await live();
    const base = { service: server.service, basePath: BASE, getUser: () => alice };
    for (const heartbeatMs of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => createLockHandler({ ...base, heartbeatMs })).toThrow(/"heartbeatMs"/);
    }
    expect(() => createLockHandler({ ...base, maxStreams: -1 })).toThrow(/"maxStreams"/);
  });
});

describe('freeing what a stream holds', () => {
  it('cancelling the reader frees the hub: watchers, timers and the feed listener', async () => {
    const server = await live();
    await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
    const one = await server.stream(['page:1', 'page:2'], bob);
    const two = await server.stream(['page:1'], carol);
    await one.reader.lockAt(2);
    await two.reader.lockAt(1);
    expect(liveHubStats(server.service)).toEqual({
      streams: 2,
      resources: 2,
      timers: 1,
      subscribed: true,
    });
    expect(server.feedListeners()).toBe(1);
    await one.reader.cancel();
    await eventually(() => liveHubStats(server.service).streams === 1);
    expect(liveHubStats(server.service)).toMatchObject({ resources: 1, timers: 1 });
    await two.reader.cancel();
    await expectHubEmpty(server);
  });

  it('closes a stream whose reader stopped once its queue passes the bound; the others keep receiving', async () => {
    const server = await live();
    const request = (as: typeof alice, signal?: AbortSignal) =>
      new Request(`http://admin.test${BASE}/events?ids=page%3A1`, {
        headers: { Accept: 'text/event-stream', 'X-User': as.id },
        signal,
      });
    // Straight to the Web handler: no socket buffer in between, the queue is the stream's own.
    const stalled = await server.handler(request(bob));
    const { SseReader } = await import('./event-stream-support');
    const reading = new SseReader((await server.handler(request(carol))).body as ReadableStream);
    await reading.lockAt(1);

    const cycles = 200;
    for (let cycle = 0; cycle < cycles; cycle += 1) {
      const granted = await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
      if (granted.status !== 'held') throw new Error('not granted');
      await server.service.release('page:1', granted.token);
      // Let the hub look before the next change, so every change is its own event.
      await eventually(() => reading.locks.length === 1 + 2 * (cycle + 1));
    }
    expect(reading.locks).toHaveLength(1 + 2 * cycles);
    expect(liveHubStats(server.service).streams).toBe(1);
    // The stalled stream was errored (its queue dropped): reading it now fails at once.
    await expect(stalled.body?.getReader().read()).rejects.toThrow(/stopped reading/);
    await reading.cancel();
    await expectHubEmpty(server);
  });

  it('leaves the hub empty and the feed without listeners after 10,000 open/close cycles', async () => {
    const server = await live();
    await server.service.acquire('page:1', alice, { clientId: 'tab-alice' });
    const open = (signal: AbortSignal) =>
      server.handler(
        new Request(`http://admin.test${BASE}/events?ids=page%3A1&ids=page%3A2`, {
          headers: { Accept: 'text/event-stream', 'X-User': bob.id },
          signal,
        }),
      );
    // A real collection before each measure, so the figure is what stays, not garbage.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Finalizers (undici's, for collected Requests) run between collections: a few rounds.
    const heap = async () => {
      for (let round = 0; round < 3; round += 1) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return process.memoryUsage().heapUsed;
    };
    const heapBefore = await heap();
    for (let cycle = 0; cycle < 10_000; cycle += 1) {
      const client = new AbortController();
      const response = await open(client.signal);
      expect(response.status).toBe(200);
      // Half go away (the request's signal), half cancel their body.
      if (cycle % 2 === 0) client.abort();
      else await response.body?.cancel();
    }
    await expectHubEmpty(server);
    const heapAfter = await heap();
    console.log(
      `[live] 10,000 stream open/close cycles: heap after GC ${(heapBefore / 1e6).toFixed(1)} MB → ${(heapAfter / 1e6).toFixed(1)} MB (${((heapAfter - heapBefore) / 1e3).toFixed(0)} kB)`,
    );
  });
});
