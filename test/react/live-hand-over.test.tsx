import { act, renderHook, waitFor } from '@testing-library/react';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import type { PageLockOptions } from '../../src/client/lock-options';
import type { LockAdapter } from '../../src/core/adapter';
import type { LockUser } from '../../src/protocol/protocol';
import { useLockStatus } from '../../src/react/use-lock-status';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, baseUrl, bob, carol, lockWrapper, setupLockNetwork, users } from './lock-harness';

// Live hand-over through the real thing: the HTTP adapter's event stream, real fetch, MSW and
// the memory server's handler. Polls are set to a minute, so anything that happens within a
// second came from the stream (and the request log proves no look ran).

const slow = { pollInterval: 60_000 };
// Anyone may take over here: Carol displaces Alice.
const network = setupLockNetwork({ canTakeOver: () => true });
const adapterOf = (user: LockUser): LockAdapter => network.adapterFor(user, { live: true });

/** GETs of one resource (looks), not the stream's. */
const looks = (user: string) =>
  network.requests.filter((r) => r.user === user && (r.kind === 'status' || r.kind === 'batch'));
const streams = (user: string) =>
  network.requests.filter((r) => r.user === user && r.kind === 'events');

function tab(user: LockUser, options: PageLockOptions = slow, adapter = adapterOf(user)) {
  return renderHook(() => ({ ...usePageLock('page:1', options) }), {
    wrapper: lockWrapper({
      adapter,
      clientId: `${user.id}-tab`,
      pollInterval: options.pollInterval,
    }),
  });
}

/** Until the stream's snapshot has certainly been read (it opens 25 ms after the first watch). */
const streamUp = async (user: string) => {
  await waitFor(() => expect(streams(user).length).toBeGreaterThan(0));
  await new Promise((resolve) => setTimeout(resolve, 100));
};

describe('live hand-over', () => {
  it('lets a blocked tab know at once when the holder releases, without a poll', async () => {
    // Alice's tab is elsewhere: no BroadcastChannel message reaches Bob's, only the stream.
    const held = await adapterOf(alice).acquire('page:1', { clientId: 'alice-tab' });
    if (held.status !== 'held') throw new Error('Alice should hold it');
    const blocked = tab(bob);
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    await streamUp('bob');

    const releasedAt = Date.now();
    await adapterOf(alice).release('page:1', held.token);
    await waitFor(() => expect(blocked.result.current.status).toBe('free'), { timeout: 1_000 });
    expect(Date.now() - releasedAt).toBeLessThan(1_000);
    expect(blocked.result.current.holder).toBeNull();
    expect(network.reloads).toBe(1); // as a polled `free` would: the page reloads to show the new content
    expect(looks('bob')).toHaveLength(0);
    expect(streams('bob')).toHaveLength(1); // one stream for the tab
  });

  it('shows a new holder at once', async () => {
    const first = await adapterOf(alice).acquire('page:1', { clientId: 'alice-tab' });
    if (first.status !== 'held') throw new Error('Alice should hold it');
    const blocked = tab(bob);
    await waitFor(() => expect(blocked.result.current.holder).toEqual(alice));
    await streamUp('bob');
    await adapterOf(carol).takeOver('page:1', {
      clientId: 'carol-tab',
      expectedFence: first.lock.fence,
    });
    await waitFor(() => expect(blocked.result.current.holder).toEqual(carol), { timeout: 1_000 });
    expect(blocked.result.current.status).toBe('locked');
    expect(looks('bob')).toHaveLength(0);
  });

  it('tells a displaced holder at once, with who took over, from the refresh it triggers', async () => {
    const holder = tab(alice);
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    await streamUp('alice');
    const refreshesBefore = network.requests.filter(
      (r) => r.user === 'alice' && r.method === 'POST',
    ).length;

    const fence = holder.result.current.fence as number;
    const takenAt = Date.now();
    const taken = await adapterOf(carol).takeOver('page:1', {
      clientId: 'carol-tab',
      expectedFence: fence,
    });
    expect(taken.status).toBe('held');
    await waitFor(() => expect(holder.result.current.status).toBe('lost'), { timeout: 1_000 });
    expect(Date.now() - takenAt).toBeLessThan(1_000);
    expect(holder.result.current).toMatchObject({
      reason: 'taken-over',
      holder: carol,
      token: null,
    });
    // The push alone was not trusted: one refresh asked, and its 409 said who took over.
    const refreshes = network.requests.filter((r) => r.user === 'alice' && r.method === 'POST');
    expect(refreshes.length - refreshesBefore).toBe(1);
  });

  it('while up, a blocked tab polls only as a safety net (a third of the TTL)', async () => {
    const holder = tab(alice);
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const blocked = tab(bob, { pollInterval: 100 });
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    await streamUp('bob');
    const before = looks('bob').length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    // At 100 ms it would have looked about six times; the stream is up, so it waited.
    expect(looks('bob').length - before).toBeLessThanOrEqual(1);
  });

  it('looks at once and polls at pollInterval again when an open stream goes down', async () => {
    // The real stream, through a body this test can cut.
    let cut = () => {};
    network.msw.use(
      http.get(`${baseUrl}/events`, async ({ request }) => {
        const user = users[request.headers.get('x-test-user') ?? ''] ?? null;
        const real = (await network.server.handle(request, user, '/api/locks'))
          .body as ReadableStream;
        const reader = real.getReader();
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            cut = () => {
              controller.close();
              void reader.cancel();
            };
          },
          async pull(controller) {
            const { done, value } = await reader.read();
            try {
              if (done) controller.close();
              else controller.enqueue(value);
            } catch {
              // Cut meanwhile.
            }
          },
        });
        return new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream' } });
      }),
    );
    const held = await adapterOf(alice).acquire('page:1', { clientId: 'alice-tab' });
    expect(held.status).toBe('held');
    const blocked = tab(bob, { pollInterval: 200 });
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    await streamUp('bob');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = looks('bob').length;
    expect(before).toBeLessThanOrEqual(1); // up: no poll at 200 ms

    // Reconnects fail from now on.
    network.msw.use(http.get(`${baseUrl}/events`, () => new HttpResponse(null, { status: 500 })));
    cut();
    await waitFor(() => expect(looks('bob').length).toBe(before + 1), { timeout: 150 });
    await waitFor(() => expect(looks('bob').length).toBeGreaterThanOrEqual(before + 4), {
      timeout: 1_000,
    });
  });

  it('falls back to polling at pollInterval when the stream route fails', async () => {
    network.msw.use(http.get(`${baseUrl}/events`, () => new HttpResponse(null, { status: 500 })));
    const holder = tab(alice);
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const blocked = tab(bob, { pollInterval: 100 });
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    await waitFor(() => expect(looks('bob').length).toBeGreaterThanOrEqual(3), { timeout: 1_000 });
    await act(() => holder.result.current.release());
    await waitFor(() => expect(blocked.result.current.status).toBe('free'), { timeout: 1_000 });
    expect(streams('bob').length).toBeGreaterThan(0); // it did try
  });

  it('updates a badge at once, without another batch request', async () => {
    const { result } = renderHook(() => useLockStatus('page:1'), {
      wrapper: lockWrapper({ adapter: adapterOf(bob), clientId: 'bob-tab', pollInterval: 60_000 }),
    });
    await waitFor(() => expect(result.current.status).toBe('free'));
    await streamUp('bob');
    const batches = () => looks('bob').length;
    const before = batches();

    const acquired = await adapterOf(alice).acquire('page:1', { clientId: 'alice-tab' });
    await waitFor(() => expect(result.current).toMatchObject({ status: 'locked', holder: alice }), {
      timeout: 1_000,
    });
    if (acquired.status !== 'held') throw new Error('Alice should hold it');
    await adapterOf(alice).release('page:1', acquired.token);
    await waitFor(() => expect(result.current.status).toBe('free'), { timeout: 1_000 });
    expect(batches()).toBe(before);
    expect(streams('bob')).toHaveLength(1);
  });

  it('keeps working by polling alone with a custom adapter that has no watch', async () => {
    const http = adapterOf(bob);
    const custom: LockAdapter = {
      acquire: (...args) => http.acquire(...args),
      release: (...args) => http.release(...args),
      takeOver: (...args) => http.takeOver(...args),
      status: (...args) => http.status(...args),
      statusMany: (...args) => http.statusMany(...args),
    };
    const holder = tab(alice);
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const blocked = tab(bob, { pollInterval: 100 }, custom);
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    await act(() => holder.result.current.release());
    await waitFor(() => expect(blocked.result.current.status).toBe('free'), { timeout: 1_000 });
    expect(looks('bob').length).toBeGreaterThan(0);
    expect(streams('bob')).toHaveLength(0);
  });
});
