import { act, renderHook, waitFor } from '@testing-library/react';
import { delay, HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import type { PageLockOptions } from '../../src/client/lock-options';
import { pageLifecycle } from '../../src/core/page-lifecycle';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, baseUrl, lockWrapper, setupLockNetwork } from './lock-harness';

// A short lease (600 ms, so polls every 200 ms) makes the fail-safe observable in real time.
const network = setupLockNetwork({ ttl: 600 });

function aliceTab(options: PageLockOptions = {}) {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  return renderHook(() => ({ ...usePageLock('page:1', options) }), {
    wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
  });
}

describe('the fail-safe of a holder that cannot reach the server', () => {
  it('keeps editing only until the lease would have lapsed, then is lost (unreachable) and comes back', async () => {
    const onLost = vi.fn();
    const onAcquired = vi.fn();
    const { result } = aliceTab({ onLost, onAcquired });
    await waitFor(() => expect(result.current.status).toBe('held'));
    const { fence, token } = result.current;
    const lastSuccess = performance.now();

    network.msw.use(http.post(`${baseUrl}/:id`, () => HttpResponse.error()));
    // Still held after a refresh failed: the lease has not lapsed yet.
    await waitFor(() => expect(result.current.error).not.toBeNull());
    expect(result.current.status).toBe('held');

    await waitFor(() => expect(result.current.status).toBe('lost'), { timeout: 2_000 });
    const lostAfter = performance.now() - lastSuccess;
    expect(lostAfter).toBeGreaterThanOrEqual(350); // not before the lease could lapse…
    expect(lostAfter).toBeLessThan(1_000); // …and not long after
    expect(result.current).toMatchObject({ reason: 'unreachable', isOwner: false, token });
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(onLost.mock.calls[0]?.[0]).toMatchObject({ reason: 'unreachable' });

    // It goes on trying; the server is back and nobody took the page: the lease resumes.
    network.msw.resetHandlers();
    await waitFor(() => expect(result.current.status).toBe('held'), { timeout: 2_000 });
    expect(result.current).toMatchObject({ fence, token, reason: null, error: null });
    expect(onAcquired).toHaveBeenCalledTimes(2);
  });

  it('lets a blocked tab show `error` while it cannot look, and `locked` again once it can', async () => {
    await network.adapterFor(alice).acquire('page:2', { clientId: 'elsewhere' });
    const { result } = aliceTab();
    await waitFor(() => expect(result.current.status).toBe('held'));
    const blocked = renderHook(() => ({ ...usePageLock('page:2') }), {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    network.msw.use(http.get(`${baseUrl}/:id`, () => HttpResponse.error()));
    await waitFor(() => expect(blocked.result.current.status).toBe('error'));
    expect(blocked.result.current.error?.message).toMatch(/\[page-lock\]/);
    network.msw.resetHandlers();
    await network.adapterFor(alice).acquire('page:2', { clientId: 'elsewhere' });
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
  });

  it('is `error` when the first acquire gets no answer, and acquires when the network is back', async () => {
    network.msw.use(http.post(`${baseUrl}/:id`, () => HttpResponse.error(), { once: true }));
    const { result } = aliceTab();
    await waitFor(() => expect(result.current.status).toBe('error'));
    expect(result.current.error?.message).toMatch(/\[page-lock\] \[http-adapter\]/);
    act(() => {
      window.dispatchEvent(new Event('online'));
    });
    await waitFor(() => expect(result.current.status).toBe('held'));
    expect(network.count('acquire')).toBe(2);
  });

  it('after a hidden period, lets the editor edit again only after a round trip', async () => {
    const { result } = aliceTab({ pollInterval: 100_000 });
    await waitFor(() => expect(result.current.status).toBe('held'));
    act(() => pageLifecycle.setVisible(false));
    expect(result.current.status).toBe('held');
    network.msw.use(http.post(`${baseUrl}/:id`, () => delay(100), { once: true }));
    act(() => pageLifecycle.setVisible(true));
    expect(result.current).toMatchObject({ status: 'acquiring', isOwner: false });
    await waitFor(() => expect(result.current.status).toBe('held'));
  });
});
