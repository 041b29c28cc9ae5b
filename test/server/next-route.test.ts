import { describe, expect, it } from 'vitest';
import { createLockRouteHandlers } from '../../server-adapter/next/index';
import { createLockService } from '../../server-adapter/service/lock-service';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';
import { expectProtocolHeaders } from './handler-harness';

const alice: LockUser = { id: 'u-alice', name: 'Alice' };
const bob: LockUser = { id: 'u-bob', name: 'Bob' };
/** The session: here a header naming the signed-in user's id. */
const users: Record<string, LockUser> = { [alice.id]: alice, [bob.id]: bob };

const clock = 1_700_000_000_000;

/** What `app/api/locks/[[...lock]]/route.ts` exports. */
const route = createLockRouteHandlers({
  store: createMemoryLockStore(),
  ttl: 60_000,
  now: () => clock,
  getUser: (request) => users[request.headers.get('X-Session') ?? ''] ?? null,
});

const url = (path: string) => `http://localhost:3000/api/locks${path}`;

/** Next's context: params decoded by Next (so `%2F` is already a `/`), and a Promise. */
const context = (...lock: string[]) => ({ params: Promise.resolve(lock.length ? { lock } : {}) });

const post = (path: string, as: LockUser | null, body: unknown) =>
  new Request(url(path), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(as ? { 'X-Session': as.id } : {}) },
    body: JSON.stringify(body),
  });

describe('createLockRouteHandlers: the App Router route file', () => {
  it('exports a handler for every method', () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const) {
      expect(route[method]).toBeTypeOf('function');
    }
  });

  it('acquires, observes and releases an id holding an encoded "/" and ":", ignoring Next’s decoded params', async () => {
    const id = 'site/home:hero';
    const encoded = encodeURIComponent(id);
    // Next splits the decoded path, so its params would say ['site', 'home:hero'].
    const acquired = await route.POST(
      post(`/${encoded}`, alice, { clientId: 'tab-a' }),
      context('site', 'home:hero'),
    );
    expect(acquired.status).toBe(200);
    expectProtocolHeaders(acquired);
    const held = await acquired.json();
    expect(held).toMatchObject({
      status: 'held',
      lock: { resourceId: id, holder: alice },
      ttlMs: 60_000,
    });

    const seen = await route.GET(
      new Request(url(`/${encoded}`), { headers: { 'X-Session': bob.id } }),
      context('site', 'home:hero'),
    );
    expect(await seen.json()).toMatchObject({
      status: 'locked',
      lock: { resourceId: id },
      isSelf: false,
    });

    const batch = await route.GET(
      new Request(url(`?ids=${encoded}&ids=other`), { headers: { 'X-Session': bob.id } }),
      context(),
    );
    expect(await batch.json()).toMatchObject({
      locks: { [id]: { status: 'locked' }, other: { status: 'free' } },
    });

    const beacon = new Request(url(`/${encoded}/release`), {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ token: held.token }),
    });
    const released = await route.POST(beacon, context('site', 'home:hero', 'release'));
    expect(released.status).toBe(204);
    expectProtocolHeaders(released);

    const after = await route.GET(
      new Request(url(`/${encoded}`), { headers: { 'X-Session': bob.id } }),
      context(),
    );
    expect(await after.json()).toMatchObject({ status: 'free' });
  });

  it('releases with DELETE too', async () => {
    const held = await (
      await route.POST(post('/page%3A7', bob, { clientId: 'tab-b' }), context('page:7'))
    ).json();
    const response = await route.DELETE(
      new Request(url('/page%3A7'), {
        method: 'DELETE',
        body: JSON.stringify({ token: held.token }),
      }),
      context('page:7'),
    );
    expect(response.status).toBe(204);
  });

  it('answers an unknown method with the protocol’s JSON 405, not Next’s', async () => {
    const response = await route.PATCH(
      new Request(url('/page%3A1'), { method: 'PATCH', body: '{}' }),
      context('page:1'),
    );
    expect(response.status).toBe(405);
    expect(response.headers.get('Allow')).toBe('GET, POST, DELETE');
    expectProtocolHeaders(response);
    expect(await response.json()).toEqual({
      error: { code: 'method-not-allowed', message: expect.any(String) },
      now: clock,
    });
    const options = await route.OPTIONS(
      new Request(url('/page%3A1'), { method: 'OPTIONS' }),
      context('page:1'),
    );
    expect(options.status).toBe(405);
  });

  it('answers 401 without a session', async () => {
    const response = await route.POST(
      post('/page%3A1', null, { clientId: 'tab-a' }),
      context('page:1'),
    );
    expect(response.status).toBe(401);
  });

  it('serves a ready service and another basePath', async () => {
    const service = createLockService({ store: createMemoryLockStore(), now: () => clock });
    const handlers = createLockRouteHandlers({
      service,
      basePath: '/admin/api/locks',
      getUser: () => alice,
    });
    const response = await handlers.POST(
      new Request('http://localhost/admin/api/locks/page%3A1', {
        method: 'POST',
        body: JSON.stringify({ clientId: 'tab-a' }),
      }),
    );
    expect(response.status).toBe(200);
    expect(await service.list()).toEqual([
      expect.objectContaining({ resourceId: 'page:1', holder: alice }),
    ]);
  });
});
