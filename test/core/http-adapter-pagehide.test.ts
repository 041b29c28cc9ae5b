// @vitest-environment jsdom
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHttpLockAdapter } from '../../src/core/http-adapter';
import { createMemoryLockServer, type MemoryLockServer } from '../../src/memory/memory-server';
import { createLockHandlers } from '../../src/msw/lock-handlers';
import type { HeldResponse, LockUser } from '../../src/protocol/protocol';

// The release on `pagehide`: a beacon when the browser has one, else fetch with keepalive.
// jsdom has no `navigator.sendBeacon`, so each test stubs one that forwards what the browser
// would send (the Blob's bytes and its content type) through fetch to the real handler.

const baseUrl = 'http://app.test/api/locks';
const alice: LockUser = { id: 'alice', name: 'Alice' };
const network = setupServer();
let lockServer: MemoryLockServer;
let seen: Request[];

beforeAll(() => network.listen({ onUnhandledRequest: 'error' }));
afterAll(() => network.close());
beforeEach(() => {
  lockServer = createMemoryLockServer();
  seen = [];
  network.resetHandlers(...createLockHandlers({ baseUrl, server: lockServer, user: alice }));
  network.events.on('request:start', ({ request }) => {
    seen.push(request.clone());
  });
});
afterEach(() => {
  network.events.removeAllListeners();
  vi.unstubAllGlobals();
});

/** A beacon as a browser sends it: a POST with the Blob as body and its type as content type. */
function stubBeacon(accepts: boolean) {
  const beacons: { url: string; type: string; body: string }[] = [];
  const delivered: Promise<unknown>[] = [];
  const sendBeacon = vi.fn((url: string, data: Blob) => {
    if (!accepts) return false;
    delivered.push(
      data.text().then((body) => {
        beacons.push({ url, type: data.type, body });
        return fetch(url, { method: 'POST', headers: { 'Content-Type': data.type }, body });
      }),
    );
    return true;
  });
  vi.stubGlobal('navigator', { ...navigator, sendBeacon });
  return { sendBeacon, beacons, delivered };
}

async function aliceHolds(
  adapter: ReturnType<typeof createHttpLockAdapter>,
  id: string,
): Promise<HeldResponse> {
  const answer = await adapter.acquire(id, { clientId: 'tab-1' });
  if (answer.status !== 'held') throw new Error(`expected held, got ${answer.status}`);
  return answer;
}

/** Waits (briefly) until the server has let go of every lock. */
async function untilNoLocks(): Promise<void> {
  await vi.waitFor(async () => expect(await lockServer.service.list()).toEqual([]), {
    timeout: 2_000,
  });
}

describe('release on pagehide', () => {
  it('sends a text/plain beacon with the token alone, and the real handler releases the lock', async () => {
    const { sendBeacon, beacons, delivered } = stubBeacon(true);
    const adapter = createHttpLockAdapter({ baseUrl, headers: { 'X-CSRF-Token': 'abc' } });
    const held = await aliceHolds(adapter, 'pages/42');

    expect(await adapter.release('pages/42', held.token, { keepalive: true })).toBe('released');
    expect(sendBeacon).toHaveBeenCalledTimes(1);
    await Promise.all(delivered);
    expect(beacons).toEqual([
      {
        url: `${baseUrl}/pages%2F42/release`,
        type: 'text/plain',
        body: JSON.stringify({ token: held.token }),
      },
    ]);
    await untilNoLocks();
  });

  it('falls back to fetch with keepalive when the beacon is refused', async () => {
    const { sendBeacon } = stubBeacon(false);
    const adapter = createHttpLockAdapter({ baseUrl, headers: { 'X-CSRF-Token': 'abc' } });
    const held = await aliceHolds(adapter, 'page:1');

    expect(await adapter.release('page:1', held.token, { keepalive: true })).toBe('released');
    expect(sendBeacon).toHaveBeenCalledTimes(1);
    await untilNoLocks();
    const release = seen.at(-1);
    expect(release?.url).toBe(`${baseUrl}/page%3A1/release`);
    expect(release?.keepalive).toBe(true);
    expect(release?.headers.get('Content-Type')).toMatch(/^text\/plain/);
    // Like the beacon it stands in for: a simple request, authorized by the token alone.
    expect(release?.headers.get('X-CSRF-Token')).toBeNull();
  });

  it('uses fetch with keepalive, never the beacon, when sendBeacon is false', async () => {
    const { sendBeacon } = stubBeacon(true);
    const adapter = createHttpLockAdapter({ baseUrl, sendBeacon: false });
    const held = await aliceHolds(adapter, 'page:1');

    await adapter.release('page:1', held.token, { keepalive: true });
    await untilNoLocks();
    expect(sendBeacon).not.toHaveBeenCalled();
  });

  it('falls back to fetch when the browser has no beacon at all', async () => {
    vi.stubGlobal('navigator', { ...navigator, sendBeacon: undefined });
    const adapter = createHttpLockAdapter({ baseUrl });
    const held = await aliceHolds(adapter, 'page:1');

    await adapter.release('page:1', held.token, { keepalive: true });
    await untilNoLocks();
  });

  it('resolves at once, without waiting for the server (the page is going away)', async () => {
    stubBeacon(false);
    const adapter = createHttpLockAdapter({ baseUrl });
    const held = await aliceHolds(adapter, 'page:1');
    network.use(
      http.post(`${baseUrl}/:id/release`, async () => {
        await delay('infinite');
        return new HttpResponse(null, { status: 204 });
      }),
    );

    expect(await adapter.release('page:1', held.token, { keepalive: true })).toBe('released');
  });

  it('uses a beacon given as an option instead of navigator.sendBeacon', async () => {
    const { sendBeacon: fromNavigator } = stubBeacon(true);
    const own = vi.fn(() => true);
    const adapter = createHttpLockAdapter({ baseUrl, sendBeacon: own });
    const held = await aliceHolds(adapter, 'page:1');

    await adapter.release('page:1', held.token, { keepalive: true });
    expect(own).toHaveBeenCalledWith(`${baseUrl}/page%3A1/release`, expect.any(Blob));
    expect(fromNavigator).not.toHaveBeenCalled();
  });
});
