import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockEvent } from '../../server-adapter/service/events';
import { LockAdapterError } from '../../src/core/adapter';
import { createHttpLockAdapter } from '../../src/core/http-adapter';
import { createMemoryLockAdapter } from '../../src/memory/memory-adapter';
import { createMemoryLockServer, getDefaultMemoryLockServer } from '../../src/memory/memory-server';
import { createLockHandlers } from '../../src/msw/lock-handlers';
import type { HeldResponse, LockUser } from '../../src/protocol/protocol';

const alice: LockUser = { id: 'alice', name: 'Alice' };
const bob: LockUser = { id: 'bob', name: 'Bob' };

function expectHeld(answer: { status: string }): HeldResponse {
  expect(answer.status).toBe('held');
  return answer as HeldResponse;
}

describe('createMemoryLockServer', () => {
  it('runs on the clock it is given, moved on by advance()', async () => {
    let clock = 1_000_000;
    const server = createMemoryLockServer({ ttl: 10_000, now: () => clock });
    const adapter = createMemoryLockAdapter({ user: alice, server });

    const held = expectHeld(await adapter.acquire('page:1', { clientId: 'tab-1' }));
    expect(held.now).toBe(1_000_000);
    expect(held.lock.expiresAt).toBe(1_010_000);

    clock += 500;
    server.advance(10_000);
    expect(server.now()).toBe(1_010_500);
    expect((await adapter.status('page:1')).status).toBe('free');
  });

  it('lets stories show an admin ending a lock (service.forceRelease)', async () => {
    const server = createMemoryLockServer();
    const adapter = createMemoryLockAdapter({ user: alice, server });
    const held = expectHeld(await adapter.acquire('page:1', { clientId: 'tab-1' }));
    expect(await server.service.list()).toEqual([held.lock]);

    await server.service.forceRelease('page:1');
    const late = await adapter.acquire('page:1', { clientId: 'tab-1', token: held.token });
    expect(late.status === 'lost' && late.reason).toBe('released');
  });

  it('applies its takeover policy and reports every change to onEvent', async () => {
    const events: LockEvent['type'][] = [];
    const server = createMemoryLockServer({
      canTakeOver: (user) => user.id === 'bob',
      onEvent: (event) => events.push(event.type),
    });
    const asAlice = createMemoryLockAdapter({ user: alice, server });
    const asBob = createMemoryLockAdapter({ user: bob, server });
    const held = expectHeld(await asAlice.acquire('page:1', { clientId: 'tab-a' }));

    const blocked = await asBob.acquire('page:1', { clientId: 'tab-b' });
    expect(blocked.status === 'locked' && blocked.canTakeOver).toBe(true);
    const taken = expectHeld(
      await asBob.takeOver('page:1', { clientId: 'tab-b', expectedFence: held.lock.fence }),
    );
    expect(taken.lock.holder).toEqual(bob);
    expect(events).toEqual(['acquired', 'denied', 'taken-over']);
  });
});

describe('createMemoryLockAdapter', () => {
  it('shares the page’s default server when none is given', async () => {
    const asAlice = createMemoryLockAdapter({ user: alice });
    const asBob = createMemoryLockAdapter({ user: bob });
    const held = expectHeld(await asAlice.acquire('default:page', { clientId: 'tab-a' }));

    const seen = await asBob.status('default:page');
    expect(seen.status === 'locked' && seen.lock.holder).toEqual(alice);
    expect(await getDefaultMemoryLockServer().service.list()).toEqual([held.lock]);
    await asAlice.release('default:page', held.token);
  });

  it('takes `latency` ms per answer, and an abort while waiting grants nothing', async () => {
    const server = createMemoryLockServer();
    const slow = createMemoryLockAdapter({ user: alice, server, latency: 60 });

    const started = performance.now();
    await slow.status('page:1');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);

    const controller = new AbortController();
    const pending = slow.acquire('page:1', { clientId: 'tab-1' }, { signal: controller.signal });
    controller.abort(new Error('unmounted'));
    await expect(pending).rejects.toThrow('unmounted');
    expect(await server.service.list()).toEqual([]);
  });

  it('refuses to start without a user', () => {
    expect(() => createMemoryLockAdapter({ user: undefined as unknown as LockUser })).toThrow(
      /\[page-lock\] \[memory-adapter\] Missing option "user"/,
    );
  });
});

describe('createLockHandlers (page-lock/msw)', () => {
  const network = setupServer();
  beforeAll(() => network.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => network.close());

  it('answers 401 when the user function finds nobody signed in', async () => {
    network.resetHandlers(
      ...createLockHandlers({
        baseUrl: 'http://app.test/api/locks',
        server: createMemoryLockServer(),
        user: (request) => (request.headers.get('Cookie') === 'session=alice' ? alice : null),
      }),
    );
    const signedOut = createHttpLockAdapter({ baseUrl: 'http://app.test/api/locks' });
    const error = await signedOut.status('page:1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockAdapterError);
    expect((error as LockAdapterError).status).toBe(401);

    const signedIn = createHttpLockAdapter({
      baseUrl: 'http://app.test/api/locks',
      headers: { Cookie: 'session=alice' },
    });
    expect((await signedIn.status('page:1')).status).toBe('free');
  });

  it('answers the protocol’s 404 below the base path, and nothing outside it', async () => {
    network.resetHandlers(
      ...createLockHandlers({
        baseUrl: '/api/locks',
        server: createMemoryLockServer(),
        user: alice,
      }),
    );
    const below = await fetch('http://any.test/api/locks/page/extra/segment');
    expect(below.status).toBe(404);
    expect((await below.json()).error.code).toBe('not-found');
    await expect(fetch('http://any.test/api/other')).rejects.toThrow();
  });

  it('refuses to start without a base URL', () => {
    expect(() => createLockHandlers({ baseUrl: '', user: alice })).toThrow(
      /\[page-lock\] \[msw\] Missing option "baseUrl"/,
    );
  });
});
