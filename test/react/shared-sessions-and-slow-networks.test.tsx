import { act, render, renderHook, screen, waitFor } from '@testing-library/react';
import { delay, HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import type { LockAdapter } from '../../src/core/adapter';
import { PageLockProvider } from '../../src/react/page-lock-provider';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, baseUrl, lockWrapper, setupLockNetwork } from './lock-harness';

// Races a flaky network and a busy user bring: late grants, remounts, releases that fail.

const network = setupLockNetwork();
const fast = { pollInterval: 50 };

function Status() {
  const { status, reason } = usePageLock(undefined, fast);
  return <output>{reason ? `${status} (${reason})` : status}</output>;
}

/** The README's quick start: no QueryClientProvider, so the provider makes its own client. */
function Editor({ version }: { version: number }) {
  return (
    <PageLockProvider
      key={version}
      adapter={network.adapterFor(alice)}
      clientId="alice-tab"
      resourceId="page:1"
    >
      <Status />
    </PageLockProvider>
  );
}

describe('a provider that owns its QueryClient', () => {
  it('keeps its lock when the editor remounts (a key change after a save)', async () => {
    const { rerender } = render(<Editor version={1} />);
    await screen.findByText('held');
    rerender(<Editor version={2} />);
    await screen.findByText('held');
    // A few refreshes later the new session still holds a live lock.
    await waitFor(() => expect(network.count('refresh')).toBeGreaterThanOrEqual(3));
    expect(screen.getByRole('status').textContent).toBe('held');
    const locks = await network.server.service.list();
    expect(locks).toHaveLength(1);
  });
});

describe('manual mode under a slow network', () => {
  it('holds a live lock after acquire(), release() while that acquire is on its way, and acquire() again', async () => {
    // The first acquire reaches the server late. The second one's answer comes back only after
    // the first one's late grant (the same token: a reclaim) was given back.
    let letFirstThrough: () => void = () => {};
    const firstMayGo = new Promise<void>((resolve) => {
      letFirstThrough = resolve;
    });
    network.msw.use(http.post(`${baseUrl}/:id`, () => firstMayGo, { once: true }));
    const real = network.adapterFor(alice);
    let lateGrantGivenBack: () => void = () => {};
    const givenBack = new Promise<void>((resolve) => {
      lateGrantGivenBack = resolve;
    });
    let acquires = 0;
    const adapter: LockAdapter = {
      ...real,
      acquire: async (id, request, options) => {
        const nth = ++acquires;
        const answer = await real.acquire(id, request, options);
        if (nth === 2) await givenBack;
        return answer;
      },
      release: async (id, token, options) => {
        const outcome = await real.release(id, token, options);
        lateGrantGivenBack();
        return outcome;
      },
    };
    const { result } = renderHook(
      () => ({ ...usePageLock('page:1', { ...fast, acquire: 'manual' }) }),
      { wrapper: lockWrapper({ adapter, clientId: 'alice-tab' }) },
    );
    await waitFor(() => expect(result.current.status).toBe('free'));
    act(() => result.current.acquire());
    await waitFor(() => expect(network.count('acquire')).toBe(1));
    await act(() => result.current.release());
    act(() => result.current.acquire());
    await delay(30);
    letFirstThrough();
    await waitFor(() => expect(result.current.status).toBe('held'));
    const token = result.current.token as string;
    await expect(network.server.service.assertHeld('page:1', token, alice)).resolves.toMatchObject({
      holder: alice,
    });
    await delay(200);
    expect(result.current.status).toBe('held');
  });

  it('stops asking for the lock on release() after a first acquire got no answer', async () => {
    network.msw.use(http.post(`${baseUrl}/:id`, () => HttpResponse.error(), { once: true }));
    const { result } = renderHook(
      () => ({ ...usePageLock('page:1', { ...fast, acquire: 'manual' }) }),
      {
        wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
      },
    );
    await waitFor(() => expect(result.current.status).toBe('free'));
    act(() => result.current.acquire());
    await waitFor(() => expect(result.current.status).toBe('error'));
    await act(() => result.current.release());
    expect(result.current.status).toBe('free');
    // The network is back and the page free: a tab that gave up does not take it.
    await delay(300);
    expect(result.current.status).toBe('free');
    expect(await network.server.service.list()).toEqual([]);
  });

  it('gives the lock back again, rather than reclaiming it, when its release() got no answer', async () => {
    const { result } = renderHook(
      () => ({ ...usePageLock('page:1', { ...fast, acquire: 'manual' }) }),
      {
        wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
      },
    );
    await waitFor(() => expect(result.current.status).toBe('free'));
    act(() => result.current.acquire());
    await waitFor(() => expect(result.current.status).toBe('held'));
    network.msw.use(
      http.post(`${baseUrl}/:id/release`, () => HttpResponse.error(), { once: true }),
    );
    await act(() => result.current.release());
    expect(result.current.status).toBe('free');
    // The server still has the lease; the next looks must not take it back for this tab.
    await waitFor(async () => expect(await network.server.service.list()).toEqual([]), {
      timeout: 1_000,
    });
    await delay(200);
    expect(result.current.status).toBe('free');
    expect(await network.server.service.list()).toEqual([]);
  });
});

/** One tab: an editor and a sidebar, each under a provider that makes its own QueryClient. */
function EditorAndSidebar({ showSidebar }: { showSidebar: boolean }) {
  const adapter = network.adapterFor(alice);
  return (
    <>
      <PageLockProvider adapter={adapter} clientId="alice-tab" resourceId="page:1">
        <Status />
      </PageLockProvider>
      {showSidebar ? (
        <PageLockProvider adapter={adapter} clientId="alice-tab" resourceId="page:1">
          <Status />
        </PageLockProvider>
      ) : null}
    </>
  );
}

describe('two providers that each own a QueryClient, on one resource', () => {
  it('keeps the lock of the one still mounted when the other unmounts', async () => {
    const { rerender } = render(<EditorAndSidebar showSidebar />);
    await waitFor(() => expect(screen.getAllByText('held')).toHaveLength(2));
    rerender(<EditorAndSidebar showSidebar={false} />);
    const refreshes = network.count('refresh');
    await waitFor(() => expect(network.count('refresh')).toBeGreaterThanOrEqual(refreshes + 3));
    expect(screen.getByRole('status').textContent).toBe('held');
    expect(network.count('release')).toBe(0);
    expect(await network.server.service.list()).toHaveLength(1);
  });
});
