import { act, renderHook, waitFor } from '@testing-library/react';
import { delay, HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import type { PageLockOptions } from '../../src/client/lock-options';
import { pageLifecycle } from '../../src/core/page-lifecycle';
import { createMemoryLockAdapter } from '../../src/memory/memory-adapter';
import { createMemoryLockServer } from '../../src/memory/memory-server';
import { PageLockProvider } from '../../src/react/page-lock-provider';
import { usePageLock } from '../../src/react/use-page-lock';
import {
  alice,
  baseUrl,
  bob,
  createTestQueryClient,
  lockWrapper,
  setupLockNetwork,
} from './lock-harness';

const network = setupLockNetwork();
const fast = { pollInterval: 50 };

/** A hook result that reads every property, so each change re-renders it. */
function useWholeLock(resourceId: string, options?: PageLockOptions) {
  return { ...usePageLock(resourceId, options) };
}

function aliceTab(clientId = 'alice-tab', options: PageLockOptions = fast) {
  return renderHook(() => useWholeLock('page:1', options), {
    wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId }),
  });
}

function bobTab(options: PageLockOptions = fast) {
  return renderHook(() => useWholeLock('page:1', options), {
    wrapper: lockWrapper({ adapter: network.adapterFor(bob), clientId: 'bob-tab' }),
  });
}

describe('usePageLock', () => {
  it('acquires the lock when the editor mounts and gives the token and fence for saves', async () => {
    const statuses: string[] = [];
    const { result } = renderHook(
      () => {
        const lock = useWholeLock('page:1', fast);
        statuses.push(lock.status);
        return lock;
      },
      { wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }) },
    );
    expect(statuses[0]).toBe('idle');
    await waitFor(() => expect(result.current.status).toBe('held'));
    const [lock] = await network.server.service.list();
    expect(result.current).toMatchObject({
      isOwner: true,
      holder: alice,
      fence: lock?.fence,
      reason: null,
    });
    expect(result.current.token).toMatch(/.{20,}/);
    expect([...new Set(statuses)]).toEqual(['idle', 'acquiring', 'held']);
    await expect(
      network.server.service.assertHeld('page:1', result.current.token as string, alice),
    ).resolves.toMatchObject({ holder: alice });
  });

  it('keeps the lease alive by refreshing it with the token', async () => {
    const { result } = aliceTab();
    await waitFor(() => expect(result.current.status).toBe('held'));
    const firstExpiry = result.current.expiresAt as number;
    await waitFor(() => expect(network.count('refresh')).toBeGreaterThanOrEqual(2));
    await waitFor(() => expect(result.current.expiresAt).toBeGreaterThan(firstExpiry));
    expect(network.count('acquire')).toBe(1);
    expect(result.current.status).toBe('held');
  });

  it('shows a blocked tab who holds the page and since when, without ever acquiring it again', async () => {
    const holder = aliceTab();
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const blocked = bobTab();
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    expect(blocked.result.current).toMatchObject({
      holder: alice,
      since: holder.result.current.since,
      isOwner: false,
      isSelf: false,
      canTakeOver: false,
      token: null,
    });
    await waitFor(() => expect(network.requests.filter((r) => r.kind === 'status').length).toBe(3));
    // One acquire (the 423), then only GETs: an abandoned blocked tab never grabs the lock.
    expect(network.requests.filter((r) => r.user === 'bob' && r.kind === 'acquire')).toHaveLength(
      1,
    );
  });

  it('tells a blocked tab when the page becomes free, and by default reloads it', async () => {
    const holder = aliceTab();
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const blocked = bobTab();
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    await act(() => holder.result.current.release());
    await waitFor(() => expect(blocked.result.current.status).toBe('free'));
    expect(blocked.result.current.holder).toBeNull();
    expect(network.reloads).toBe(1);
  });

  it('runs onAvailable instead of reloading when the app gives one', async () => {
    const onAvailable = vi.fn();
    const holder = aliceTab();
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const blocked = bobTab({ ...fast, onAvailable });
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    holder.unmount();
    await waitFor(() => expect(onAvailable).toHaveBeenCalledTimes(1));
    expect(onAvailable.mock.calls[0]?.[0]).toMatchObject({ status: 'free', resourceId: 'page:1' });
    expect(network.reloads).toBe(0);
  });

  it('does not reload a background tab until it is visible again', async () => {
    const holder = aliceTab();
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const blocked = bobTab();
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    act(() => pageLifecycle.setVisible(false));
    await act(() => holder.result.current.release());
    await waitFor(() => expect(blocked.result.current.status).toBe('free'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(network.reloads).toBe(0);
    act(() => pageLifecycle.setVisible(true));
    expect(network.reloads).toBe(1);
  });

  it('takes over when allowed, and the displaced holder learns it lost the lock (taken-over)', async () => {
    const onLost = vi.fn();
    const holder = aliceTab('alice-tab', { ...fast, onLost });
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const self = renderHook(() => useWholeLock('page:1', fast), {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-other-tab' }),
    });
    await waitFor(() => expect(self.result.current.status).toBe('locked'));
    expect(self.result.current).toMatchObject({ isSelf: true, canTakeOver: true });

    // "Edit here instead": the same user in another tab.
    await act(() => self.result.current.takeOver());
    expect(self.result.current.status).toBe('held');
    expect(self.result.current.since).toBe(holder.result.current.since);
    await waitFor(() => expect(holder.result.current.status).toBe('lost'));
    expect(holder.result.current).toMatchObject({
      reason: 'taken-over',
      isOwner: false,
      token: null,
    });
    // The new holder is this same user (the other tab): it may take the page back.
    expect(holder.result.current).toMatchObject({ holder: alice, isSelf: true, canTakeOver: true });
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(onLost.mock.calls[0]?.[0]).toMatchObject({ status: 'lost', reason: 'taken-over' });
  });

  it('refuses a takeover the server does not allow, and stays locked', async () => {
    const holder = aliceTab();
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const blocked = bobTab();
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    await act(() => blocked.result.current.takeOver());
    expect(blocked.result.current).toMatchObject({
      status: 'locked',
      canTakeOver: false,
      holder: alice,
    });
    expect(holder.result.current.status).toBe('held');
  });

  it('waits for acquire() in manual mode', async () => {
    const { result } = aliceTab('alice-tab', { ...fast, acquire: 'manual' });
    await waitFor(() => expect(network.count('status')).toBeGreaterThanOrEqual(1));
    expect(result.current.status).toBe('free');
    expect(network.count('acquire')).toBe(0);
    act(() => result.current.acquire());
    await waitFor(() => expect(result.current.status).toBe('held'));
    await act(() => result.current.release());
    expect(result.current.status).toBe('free');
    expect(await network.server.service.list()).toEqual([]);
  });

  it('acquires again after release() only once that release has landed', async () => {
    const { result } = aliceTab('alice-tab', { ...fast, acquire: 'manual' });
    act(() => result.current.acquire());
    await waitFor(() => expect(result.current.status).toBe('held'));
    network.msw.use(http.post(`${baseUrl}/:id/release`, () => delay(150), { once: true }));
    let released: Promise<void> = Promise.resolve();
    act(() => {
      released = result.current.release();
    });
    act(() => result.current.acquire());
    expect(result.current.status).toBe('acquiring');
    await act(() => released);
    await waitFor(() => expect(result.current.status).toBe('held'));
    await delay(150);
    expect(result.current.status).toBe('held');
    const kinds = network.requests.map((request) => request.kind);
    expect(kinds.indexOf('release')).toBeLessThan(kinds.lastIndexOf('acquire'));
  });

  it('gives the lock back on release; a refresh in flight is cancelled and cannot take it back', async () => {
    const { result } = aliceTab('alice-tab', { pollInterval: 100_000 });
    await waitFor(() => expect(result.current.status).toBe('held'));
    network.msw.use(http.post(`${baseUrl}/:id`, () => delay(100), { once: true }));
    act(() => result.current.retry());
    await waitFor(() => expect(network.count('refresh')).toBe(1));
    await act(() => result.current.release());
    expect(result.current).toMatchObject({ status: 'free', token: null, isOwner: false });
    await delay(200);
    expect(await network.server.service.list()).toEqual([]);
    expect(result.current.status).toBe('free');
    expect(network.requests.map((request) => request.kind)).toEqual([
      'acquire',
      'refresh',
      'release',
    ]);
  });

  it('gives back a first grant that arrives after release()', async () => {
    network.msw.use(http.post(`${baseUrl}/:id`, () => delay(100), { once: true }));
    const { result } = aliceTab();
    await waitFor(() => expect(network.count('acquire')).toBe(1));
    await act(() => result.current.release());
    expect(result.current.status).toBe('free');
    await waitFor(() => expect(network.count('release')).toBe(1));
    expect(await network.server.service.list()).toEqual([]);
    expect(result.current.status).toBe('free');
  });

  it('comes back silently when its lease lapsed and nobody held the page since', async () => {
    const onLost = vi.fn();
    const { result } = aliceTab('alice-tab', { pollInterval: 100_000, onLost });
    await waitFor(() => expect(result.current.status).toBe('held'));
    const { fence, since } = result.current;
    network.server.advance(31_000);
    act(() => result.current.retry());
    await waitFor(() => expect(network.count('refresh')).toBe(1));
    await waitFor(() => expect(result.current.expiresAt).toBeGreaterThan(network.server.now()));
    expect(result.current).toMatchObject({ status: 'held', fence, since });
    expect(onLost).not.toHaveBeenCalled();
  });

  it('is lost with edited-meanwhile when someone else held the page during its lapse', async () => {
    const onLost = vi.fn();
    const { result } = aliceTab('alice-tab', { pollInterval: 100_000, onLost });
    await waitFor(() => expect(result.current.status).toBe('held'));
    network.server.advance(31_000);
    const bobs = await network.adapterFor(bob).acquire('page:1', { clientId: 'bob-tab' });
    if (bobs.status !== 'held') throw new Error('Bob should get the lapsed lock');
    await network.adapterFor(bob).release('page:1', bobs.token);
    act(() => result.current.retry());
    await waitFor(() => expect(result.current.status).toBe('lost'));
    expect(result.current).toMatchObject({ reason: 'edited-meanwhile', token: null, holder: null });
    expect(onLost).toHaveBeenCalledTimes(1);
  });

  it("runs the provider's resource for usePageLock() without arguments, with the provider's callbacks", async () => {
    const onAcquired = vi.fn();
    const { result } = renderHook(() => ({ ...usePageLock() }), {
      wrapper: lockWrapper({
        adapter: network.adapterFor(alice),
        clientId: 'alice-tab',
        resourceId: 'page:7',
        onAcquired,
      }),
    });
    await waitFor(() => expect(result.current.status).toBe('held'));
    expect(result.current.resourceId).toBe('page:7');
    // The provider's runner and the hook share one session: one acquire, one callback.
    expect(network.count('acquire')).toBe(1);
    expect(onAcquired).toHaveBeenCalledTimes(1);
  });

  it("keeps its polls in the app's QueryClient, and works without one", async () => {
    const appClient = createTestQueryClient();
    const inApp = renderHook(() => ({ ...usePageLock('page:1', fast) }), {
      wrapper: lockWrapper({
        adapter: network.adapterFor(alice),
        clientId: 'alice-tab',
        queryClient: appClient,
      }),
    });
    await waitFor(() => expect(inApp.result.current.status).toBe('held'));
    expect(appClient.getQueryCache().findAll({ queryKey: ['page-lock'] }).length).toBeGreaterThan(
      0,
    );

    const standalone = renderHook(() => ({ ...usePageLock('page:2', fast) }), {
      wrapper: ({ children }) => (
        <PageLockProvider adapter={network.adapterFor(alice)} clientId="alice-tab">
          {children}
        </PageLockProvider>
      ),
    });
    await waitFor(() => expect(standalone.result.current.status).toBe('held'));
  });

  it("polls at most every third of the server's ttl, and says so once", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const server = createMemoryLockServer({ ttl: 300 });
    const adapter = createMemoryLockAdapter({ user: alice, server });
    const refreshes: number[] = [];
    const counting = {
      ...adapter,
      acquire: (...args: Parameters<typeof adapter.acquire>) => {
        if (args[1].token) refreshes.push(Date.now());
        return adapter.acquire(...args);
      },
    };
    const { result } = renderHook(() => ({ ...usePageLock('page:1', { pollInterval: 12_345 }) }), {
      wrapper: lockWrapper({ adapter: counting, clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(result.current.status).toBe('held'));
    await waitFor(() => expect(refreshes.length).toBeGreaterThanOrEqual(3), { timeout: 1_000 });
    expect(result.current.status).toBe('held');
    const ours = warn.mock.calls.filter(([message]) => String(message).includes('12345 ms'));
    expect(ours).toHaveLength(1);
    expect(String(ours[0]?.[0])).toMatch(
      /^\[page-lock\] \[usePageLock\] pollInterval 12345 ms .* every 100 ms/,
    );
  });

  it('does nothing and stays idle while disabled, and starts when enabled', async () => {
    let enabled = false;
    const { result, rerender } = renderHook(() => ({ ...usePageLock('page:1', { enabled }) }), {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await delay(50);
    expect(result.current.status).toBe('idle');
    expect(network.requests).toEqual([]);
    enabled = true;
    rerender();
    await waitFor(() => expect(result.current.status).toBe('held'));
    enabled = false;
    rerender();
    expect(result.current.status).toBe('idle');
    await waitFor(() => expect(network.count('release')).toBe(1));
  });

  it('refuses a resource id the protocol would refuse, naming the problem', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const wrapper = lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' });
    expect(() => renderHook(() => usePageLock(''), { wrapper })).toThrow(
      '[page-lock] usePageLock() resourceId must not be empty',
    );
    expect(() => renderHook(() => usePageLock('x'.repeat(257)), { wrapper })).toThrow(
      'at most 256 characters',
    );
  });

  it('is lost with expired when its lease lapsed and someone else holds the page now', async () => {
    const { result } = renderHook(() => ({ ...usePageLock('page:1', { pollInterval: 100_000 }) }), {
      wrapper: lockWrapper({
        adapter: network.adapterFor(alice),
        clientId: 'alice-tab',
        user: alice,
      }),
    });
    await waitFor(() => expect(result.current.status).toBe('held'));
    network.server.advance(31_000);
    await network.adapterFor(bob).acquire('page:1', { clientId: 'bob-tab' });
    act(() => result.current.retry());
    await waitFor(() => expect(result.current.status).toBe('lost'));
    expect(result.current).toMatchObject({
      reason: 'expired',
      holder: bob,
      isSelf: false,
      canTakeOver: false,
      token: null,
    });
  });

  it('keeps showing the holder when a takeover gets no answer', async () => {
    const holder = aliceTab();
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    // Slow looks: the next good answer clears the error, and at 50 ms one may land (under load)
    // before the assertions below run.
    const other = aliceTab('alice-other-tab', { pollInterval: 5_000 });
    await waitFor(() => expect(other.result.current.status).toBe('locked'));
    network.msw.use(
      http.post(`${baseUrl}/:id/takeover`, () => HttpResponse.error(), { once: true }),
    );
    await act(() => other.result.current.takeOver());
    expect(other.result.current).toMatchObject({ status: 'locked', holder: alice, isSelf: true });
    expect(other.result.current.error?.message).toMatch(/\[page-lock\]/);
    expect(holder.result.current.status).toBe('held');
  });

  it("has blocked tabs look at most every third of the server's ttl too", async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const server = createMemoryLockServer({ ttl: 300 });
    await createMemoryLockAdapter({ user: alice, server }).acquire('page:1', { clientId: 'a' });
    const bobs = createMemoryLockAdapter({ user: bob, server });
    let looks = 0;
    const counting = {
      ...bobs,
      status: (...args: Parameters<typeof bobs.status>) => {
        looks++;
        return bobs.status(...args);
      },
    };
    const { result } = renderHook(() => ({ ...usePageLock('page:1', { pollInterval: 54_321 }) }), {
      wrapper: lockWrapper({ adapter: counting, clientId: 'bob-tab' }),
    });
    await waitFor(() => expect(result.current.status).toBe('locked'));
    await waitFor(() => expect(looks).toBeGreaterThanOrEqual(3), { timeout: 1_000 });
  });

  it('says what to add when used outside a provider', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => renderHook(() => usePageLock('page:1'))).toThrow(
      '[page-lock] usePageLock() must be used inside <PageLockProvider adapter={…}>: wrap your editor (or your app) in it.',
    );
  });
});
