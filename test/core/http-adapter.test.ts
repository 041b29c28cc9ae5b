import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LockAdapterError } from '../../src/core/adapter';
import { createHttpLockAdapter } from '../../src/core/http-adapter';
import { createMemoryLockServer, type MemoryLockServer } from '../../src/memory/memory-server';
import { createLockHandlers } from '../../src/msw/lock-handlers';
import type { LockUser } from '../../src/protocol/protocol';

const baseUrl = 'http://app.test/api/locks';
const alice: LockUser = { id: 'alice', name: 'Alice' };
const network = setupServer();
let lockServer: MemoryLockServer;
/** The real errors behind 500s, which responses hide. */
let serverErrors: unknown[];
/** Every request that reached the network, as the server saw it. */
let seen: Request[];

beforeAll(() => network.listen({ onUnhandledRequest: 'error' }));
afterAll(() => network.close());
beforeEach(() => {
  serverErrors = [];
  lockServer = createMemoryLockServer({ onError: (error) => serverErrors.push(error) });
  seen = [];
  network.resetHandlers(...createLockHandlers({ baseUrl, server: lockServer, user: alice }));
  network.events.on('request:start', ({ request }) => {
    seen.push(request.clone());
  });
});
afterEach(() => {
  network.events.removeAllListeners();
});

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

async function adapterError(promise: Promise<unknown>): Promise<LockAdapterError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(LockAdapterError);
  return error as LockAdapterError;
}

describe('createHttpLockAdapter: errors', () => {
  it('refuses a server that speaks another protocol version (protocol error)', async () => {
    network.use(
      http.post(`${baseUrl}/:id`, () =>
        HttpResponse.json({ status: 'held' }, { headers: { 'Page-Lock-Version': '2' } }),
      ),
    );
    const error = await adapterError(
      createHttpLockAdapter({ baseUrl }).acquire('page:1', { clientId: 'tab-1' }),
    );
    expect(error.kind).toBe('protocol');
    expect(error.message).toMatch(/protocol 2.*speaks 1/);
  });

  it('refuses an answer that is not the protocol, such as an HTML page (protocol error)', async () => {
    network.use(
      http.get(`${baseUrl}/:id`, () => HttpResponse.html('<html>Sign in</html>', { status: 200 })),
    );
    const error = await adapterError(createHttpLockAdapter({ baseUrl }).status('page:1'));
    expect(error.kind).toBe('protocol');
    expect(error.status).toBe(200);
  });

  it('turns a store failure into an http error with the protocol’s code, and grants nothing', async () => {
    lockServer.store.acquire = () => Promise.reject(new Error('disk full'));
    const error = await adapterError(
      createHttpLockAdapter({ baseUrl }).acquire('page:1', { clientId: 'tab-1' }),
    );
    expect(error.kind).toBe('http');
    expect(error.status).toBe(500);
    expect(error.code).toBe('store-error');
    expect(error.message).not.toMatch(/disk full/);
    expect((serverErrors[0] as Error).cause).toEqual(new Error('disk full'));
    expect(await lockServer.service.list()).toEqual([]);
  });

  it('turns a missing session into an http error 401 (unauthorized)', async () => {
    network.resetHandlers(...createLockHandlers({ baseUrl, server: lockServer, user: null }));
    const error = await adapterError(
      createHttpLockAdapter({ baseUrl }).acquire('page:1', { clientId: 'tab-1' }),
    );
    expect(error.kind).toBe('http');
    expect(error.status).toBe(401);
    expect(error.code).toBe('unauthorized');
  });

  it('tells a cross-site 403 apart from a takeover that is not allowed', async () => {
    const error = await adapterError(
      createHttpLockAdapter({ baseUrl, headers: { 'Sec-Fetch-Site': 'cross-site' } }).takeOver(
        'page:1',
        { clientId: 'tab-1', expectedFence: 0 },
      ),
    );
    expect(error.kind).toBe('http');
    expect(error.status).toBe(403);
    expect(error.code).toBe('cross-site');
  });

  it('reports a failed connection as a network error, with the cause', async () => {
    network.use(http.post(`${baseUrl}/:id`, () => HttpResponse.error()));
    const error = await adapterError(
      createHttpLockAdapter({ baseUrl }).acquire('page:1', { clientId: 'tab-1' }),
    );
    expect(error.kind).toBe('network');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('rejects with the signal’s own reason when aborted in flight', async () => {
    network.use(
      http.get(`${baseUrl}/:id`, async () => {
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    const controller = new AbortController();
    const reason = new Error('the component unmounted');
    const pending = createHttpLockAdapter({ baseUrl }).status('page:1', undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(reason), 20);
    expect(await rejectionOf(pending)).toBe(reason);
  });

  it('refuses an empty id list before sending anything', async () => {
    const error = await rejectionOf(createHttpLockAdapter({ baseUrl }).statusMany([]));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/at least one id/);
    expect(seen).toHaveLength(0);
  });

  it('refuses more than 100 ids before sending anything', async () => {
    const ids = Array.from({ length: 101 }, (_, index) => `page:${index}`);
    const error = await rejectionOf(createHttpLockAdapter({ baseUrl }).statusMany(ids));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/\[page-lock\].*at most 100 ids/);
    expect(seen).toHaveLength(0);
  });
});

describe('createHttpLockAdapter: requests', () => {
  it('sends the custom headers given as an object', async () => {
    const adapter = createHttpLockAdapter({ baseUrl, headers: { 'X-CSRF-Token': 'abc' } });
    await adapter.acquire('page:1', { clientId: 'tab-1' });
    expect(seen[0]?.headers.get('X-CSRF-Token')).toBe('abc');
    expect(seen[0]?.headers.get('Content-Type')).toBe('application/json');
  });

  it('asks a headers function (sync or async) before every request', async () => {
    let calls = 0;
    const adapter = createHttpLockAdapter({
      baseUrl,
      headers: async () => ({ 'X-CSRF-Token': `token-${++calls}` }),
    });
    await adapter.status('page:1');
    await adapter.statusMany(['page:1']);
    expect(seen.map((request) => request.headers.get('X-CSRF-Token'))).toEqual([
      'token-1',
      'token-2',
    ]);
  });

  it('encodes ids with slashes, colons and unicode as one path segment', async () => {
    const id = 'site/pages:42 ü';
    const adapter = createHttpLockAdapter({ baseUrl: `${baseUrl}/` });
    const answer = await adapter.acquire(id, { clientId: 'tab-1' });
    expect(seen[0]?.url).toBe(`${baseUrl}/site%2Fpages%3A42%20%C3%BC`);
    expect(answer.status === 'held' && answer.lock.resourceId).toBe(id);

    const many = await adapter.statusMany([id, 'a&b=c'], { clientId: 'tab-1' });
    expect(new URL(seen[1]?.url ?? '').searchParams.getAll('ids')).toEqual([id, 'a&b=c']);
    expect(many.locks[id]?.status).toBe('held');
    expect(many.locks['a&b=c']?.status).toBe('free');
  });

  it('speaks each route as DESIGN.md says', async () => {
    const adapter = createHttpLockAdapter({ baseUrl });
    const held = await adapter.acquire('p', { clientId: 'tab-1' });
    if (held.status !== 'held') throw new Error('expected held');
    await adapter.acquire('p', { clientId: 'tab-1', token: held.token });
    await adapter.takeOver('p', { clientId: 'tab-2', expectedFence: held.lock.fence });
    await adapter.status('p', { clientId: 'tab-2' });
    await adapter.release('p', 'some-token');
    const requests = await Promise.all(
      seen.map(async (request) => [request.method, request.url, await request.text()]),
    );
    expect(requests).toEqual([
      ['POST', `${baseUrl}/p`, JSON.stringify({ clientId: 'tab-1' })],
      ['POST', `${baseUrl}/p`, JSON.stringify({ clientId: 'tab-1', token: held.token })],
      ['POST', `${baseUrl}/p/takeover`, JSON.stringify({ clientId: 'tab-2', expectedFence: 1 })],
      ['GET', `${baseUrl}/p?clientId=tab-2`, ''],
      ['POST', `${baseUrl}/p/release`, JSON.stringify({ token: 'some-token' })],
    ]);
  });

  it('passes a relative baseUrl to fetch as it is, for the browser to resolve', async () => {
    network.resetHandlers(
      ...createLockHandlers({ baseUrl: '/api/locks', server: lockServer, user: alice }),
    );
    const asked: string[] = [];
    const adapter = createHttpLockAdapter({
      baseUrl: '/api/locks',
      // What a browser's fetch does with a relative URL: resolve it against the page.
      fetch: (input, init) => {
        asked.push(input);
        return fetch(new URL(input, 'http://admin.test/editor/page'), init);
      },
    });
    const answer = await adapter.acquire('page:1', { clientId: 'tab-1' });
    expect(answer.status).toBe('held');
    expect(asked).toEqual(['/api/locks/page%3A1']);
    expect(seen[0]?.url).toBe('http://admin.test/api/locks/page%3A1');
  });
});

describe('createHttpLockAdapter: answers for safe edits', () => {
  const lock = {
    resourceId: 'page:1',
    holder: alice,
    since: 1,
    acquiredAt: 1,
    expiresAt: 90_001,
    fence: 2,
  };

  it('accepts a batch entry the server refused to show ({ status: "forbidden" })', async () => {
    network.use(
      http.get(baseUrl, () =>
        HttpResponse.json({
          locks: { 'page:1': { status: 'forbidden' }, 'page:2': { status: 'free' } },
          ttlMs: 90_000,
          now: 5,
        }),
      ),
    );
    const answer = await createHttpLockAdapter({ baseUrl }).statusMany(['page:1', 'page:2']);
    expect(answer.locks).toEqual({
      'page:1': { status: 'forbidden' },
      'page:2': { status: 'free' },
    });
  });

  it('answers a forbidden batch entry from the real service with its authorize option', async () => {
    lockServer = createMemoryLockServer({
      authorize: (_user, resourceId) => resourceId !== 'secret:1',
    });
    network.resetHandlers(...createLockHandlers({ baseUrl, server: lockServer, user: alice }));
    const answer = await createHttpLockAdapter({ baseUrl }).statusMany(['page:1', 'secret:1']);
    expect(answer.locks['secret:1']).toEqual({ status: 'forbidden' });
    expect(answer.locks['page:1']).toEqual({ status: 'free' });
  });

  it('passes on `isSelf` of a lost answer, and refuses one that is not a boolean', async () => {
    const lost = (isSelf: unknown) =>
      http.post(`${baseUrl}/:id`, () =>
        HttpResponse.json(
          { status: 'lost', reason: 'taken-over', lock, isSelf, now: 5 },
          { status: 409 },
        ),
      );
    const adapter = createHttpLockAdapter({ baseUrl });
    network.use(lost(true));
    await expect(adapter.acquire('page:1', { clientId: 'tab-1', token: 't' })).resolves.toEqual({
      status: 'lost',
      reason: 'taken-over',
      lock,
      isSelf: true,
      now: 5,
    });
    network.use(lost('yes'));
    const error = await adapterError(adapter.acquire('page:1', { clientId: 'tab-1', token: 't' }));
    expect(error.kind).toBe('protocol');
  });
});
