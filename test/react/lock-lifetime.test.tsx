import { act, render, renderHook, screen, waitFor } from '@testing-library/react';
import { delay, http } from 'msw';
import { StrictMode, useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PageLockOptions } from '../../src/client/lock-options';
import type { LockAdapter } from '../../src/core/adapter';
import { pageLifecycle } from '../../src/core/page-lifecycle';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, baseUrl, bob, lockWrapper, setupLockNetwork } from './lock-harness';

const network = setupLockNetwork();
const fast = { pollInterval: 50 };

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function Status({ id = 'page:1', options = fast }: { id?: string; options?: PageLockOptions }) {
  const { status } = usePageLock(id, options);
  return <output>{status}</output>;
}

function TwoHooks(props: { first: () => void; second: () => void }) {
  usePageLock('page:1', { pollInterval: 5_000, onAcquired: props.first });
  usePageLock('page:1', { pollInterval: 40, onAcquired: props.second });
  return <Status options={{}} />;
}

function PageWithSidebar() {
  const [showSidebar, setShowSidebar] = useState(true);
  return (
    <>
      <Status />
      {showSidebar ? <Status /> : null}
      <button type="button" onClick={() => setShowSidebar(false)}>
        close sidebar
      </button>
    </>
  );
}

/** `navigator.sendBeacon` as a browser sends it: a POST of the Blob, with no custom headers. */
function stubBeacon(log: string[] = []) {
  const sent: Promise<Response>[] = [];
  const sendBeacon = vi.fn((url: string, data: Blob) => {
    log.push('beacon');
    sent.push(
      data
        .text()
        .then((body) =>
          fetch(url, { method: 'POST', headers: { 'Content-Type': data.type }, body }),
        ),
    );
    return true;
  });
  vi.stubGlobal('navigator', { ...navigator, sendBeacon });
  return { sendBeacon, sent };
}

describe('the lock lifetime', () => {
  it('survives React StrictMode: one acquire, ends held, zero releases sent', async () => {
    const Wrapper = lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' });
    render(
      <StrictMode>
        <Wrapper>
          <Status />
        </Wrapper>
      </StrictMode>,
    );
    await screen.findByText('held');
    await delay(150);
    expect(screen.getByText('held')).toBeTruthy();
    expect(network.count('release')).toBe(0);
    expect(network.count('acquire')).toBe(1);
    expect(await network.server.service.list()).toHaveLength(1);
  });

  it('shares one session between hooks on one resource: one acquire, the smallest interval, every callback', async () => {
    const first = vi.fn();
    const second = vi.fn();
    render(<TwoHooks first={first} second={second} />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await screen.findByText('held');
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
    await delay(300);
    expect(network.count('acquire')).toBe(1);
    // 40 ms wins over 5 s (and over the 10 s default of the third hook).
    expect(network.count('refresh')).toBeGreaterThanOrEqual(3);
  });

  it('keeps the lock while another component on the same resource is still mounted', async () => {
    render(<PageWithSidebar />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(screen.getAllByText('held')).toHaveLength(2));
    act(() => screen.getByRole('button').click());
    await delay(100);
    expect(screen.getByText('held')).toBeTruthy();
    expect(network.count('release')).toBe(0);
  });

  it('releases one tick after the last user unmounts, and closes its BroadcastChannel', async () => {
    let openChannels = 0;
    class CountingChannel extends BroadcastChannel {
      constructor(name: string) {
        super(name);
        openChannels++;
      }
      override close() {
        openChannels--;
        super.close();
      }
    }
    vi.stubGlobal('BroadcastChannel', CountingChannel);
    const { unmount } = render(<Status />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await screen.findByText('held');
    expect(openChannels).toBe(1);
    unmount();
    expect(network.count('release')).toBe(0); // not in the same tick: StrictMode remounts there
    await waitFor(() => expect(network.count('release')).toBe(1));
    await waitFor(async () => expect(await network.server.service.list()).toEqual([]));
    expect(openChannels).toBe(0);
  });

  it('lets a quick remount reclaim its lock only after the old release has landed', async () => {
    const wrapper = lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' });
    const first = renderHook(() => ({ ...usePageLock('page:1', fast) }), { wrapper });
    await waitFor(() => expect(first.result.current.status).toBe('held'));
    network.msw.use(http.post(`${baseUrl}/:id/release`, () => delay(150), { once: true }));
    first.unmount();
    await waitFor(() => expect(network.count('release')).toBe(1));
    const second = renderHook(() => ({ ...usePageLock('page:1', fast) }), { wrapper });
    await waitFor(() => expect(second.result.current.status).toBe('held'));
    await delay(200);
    expect(second.result.current.status).toBe('held');
    const token = second.result.current.token as string;
    await expect(network.server.service.assertHeld('page:1', token, alice)).resolves.toMatchObject({
      holder: alice,
    });
    // The new acquire went out only after the old release was answered.
    const kinds = network.requests.map((request) => request.kind);
    expect(kinds.indexOf('release')).toBeLessThan(kinds.lastIndexOf('acquire'));
  });

  it('on pagehide cancels the refresh in flight, then sends the release as a beacon', async () => {
    const log: string[] = [];
    const real = network.adapterFor(alice);
    const adapter: LockAdapter = {
      ...real,
      acquire: (id, request, options) => {
        options?.signal?.addEventListener('abort', () => log.push('refresh aborted'));
        return real.acquire(id, request, options);
      },
    };
    const { sent } = stubBeacon(log);
    const { result } = renderHook(() => ({ ...usePageLock('page:1', { pollInterval: 100_000 }) }), {
      wrapper: lockWrapper({ adapter, clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(result.current.status).toBe('held'));
    network.msw.use(http.post(`${baseUrl}/:id`, () => delay(1_000), { once: true }));
    act(() => result.current.retry());
    await waitFor(() => expect(network.count('refresh')).toBe(1));

    act(() => {
      window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    });
    expect(log).toEqual(['refresh aborted', 'beacon']);
    await Promise.all(sent);
    expect(await network.server.service.list()).toEqual([]);
    const release = network.requests.find((request) => request.kind === 'release');
    expect(release?.user).toBeNull(); // a beacon carries no custom headers: the token suffices
  });

  it('acquires again when the page comes back from the back/forward cache', async () => {
    stubBeacon();
    const { result } = renderHook(() => ({ ...usePageLock('page:1', fast) }), {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(result.current.status).toBe('held'));
    act(() => {
      window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    });
    await waitFor(async () => expect(await network.server.service.list()).toEqual([]));
    act(() => {
      window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
    });
    await waitFor(() => expect(result.current.status).toBe('held'));
    expect(await network.server.service.list()).toHaveLength(1);
  });

  it("wakes this browser's blocked tabs at once when the lock is released (BroadcastChannel)", async () => {
    const holder = renderHook(() => ({ ...usePageLock('page:1', fast) }), {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    // Bob's tab would look again only in 10 s.
    const onAvailable = vi.fn();
    const blocked = renderHook(
      () => ({ ...usePageLock('page:1', { pollInterval: 10_000, onAvailable }) }),
      { wrapper: lockWrapper({ adapter: network.adapterFor(bob), clientId: 'bob-tab' }) },
    );
    await waitFor(() => expect(blocked.result.current.status).toBe('locked'));
    await act(() => holder.result.current.release());
    await waitFor(() => expect(blocked.result.current.status).toBe('free'), { timeout: 500 });
    expect(onAvailable).toHaveBeenCalledTimes(1);
  });

  it('polls every 10 s by default, hidden tabs included (fake timers)', async () => {
    // react-query's refetchInterval is a setInterval; Testing Library's waitFor polls with one
    // too, so this test waits with vi.waitFor.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { result } = renderHook(() => ({ ...usePageLock('page:1') }), {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await vi.waitFor(() => expect(result.current.status).toBe('held'));
    // vi.waitFor itself moves fake time by up to 50 ms per check.
    act(() => vi.advanceTimersByTime(9_800));
    await delay(30);
    expect(network.count('refresh')).toBe(0);
    act(() => vi.advanceTimersByTime(200));
    await vi.waitFor(() => expect(network.count('refresh')).toBe(1));
    await vi.waitFor(() => expect(result.current.status).toBe('held'));

    act(() => pageLifecycle.setVisible(false));
    act(() => vi.advanceTimersByTime(10_000));
    await vi.waitFor(() => expect(network.count('refresh')).toBe(2));
    expect(result.current.status).toBe('held');
  });
});
