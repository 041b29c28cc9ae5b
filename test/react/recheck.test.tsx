import { act, renderHook, waitFor } from '@testing-library/react';
import { delay, HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import type { PageLockOptions } from '../../src/client/lock-options';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, baseUrl, bob, lockWrapper, setupLockNetwork } from './lock-harness';

const network = setupLockNetwork();
/** Polls far apart: anything that changes within a test came from `recheck()`. */
const slow: PageLockOptions = { pollInterval: 10_000 };

function tabOf(user: typeof alice, clientId: string, options: PageLockOptions = slow) {
  return renderHook(() => ({ ...usePageLock('page:1', options) }), {
    wrapper: lockWrapper({ adapter: network.adapterFor(user), clientId }),
  });
}

describe('recheck()', () => {
  it('turns a holder whose save was refused (423) `lost` with the reason, in one round trip', async () => {
    const { result } = tabOf(alice, 'alice-tab');
    await waitFor(() => expect(result.current.status).toBe('held'));
    const token = result.current.token as string;
    // An admin (or a takeover the server allowed) ended Alice's lease; her screen does not know.
    await network.server.service.forceRelease('page:1');
    await expect(network.server.service.assertHeld('page:1', token, alice)).rejects.toThrow();
    expect(result.current.status).toBe('held');

    const before = network.requests.length;
    let settled = false;
    await act(async () => {
      await result.current.recheck();
      settled = true;
    });
    expect(settled).toBe(true);
    expect(result.current.status).toBe('lost');
    expect(result.current.reason).toBe('released');
    const sent = network.requests.slice(before);
    expect(sent.map((request) => request.kind)).toEqual(['refresh']);
  });

  it('says `taken-over` and who holds it now when a rival took the page', async () => {
    const { result } = tabOf(alice, 'alice-tab');
    await waitFor(() => expect(result.current.status).toBe('held'));
    const [lock] = await network.server.service.list();
    // The server's canTakeOver defaults to no; a takeover by the same user's other tab is allowed.
    await network.adapterFor(alice).takeOver('page:1', {
      clientId: 'alice-other-tab',
      expectedFence: lock?.fence ?? 0,
    });
    await act(() => result.current.recheck());
    expect(result.current).toMatchObject({ status: 'lost', reason: 'taken-over', isSelf: true });
  });

  it('cancels a refresh already on its way and sends one now (the old one may predate the refusal)', async () => {
    const { result } = tabOf(alice, 'alice-tab');
    await waitFor(() => expect(result.current.status).toBe('held'));
    let holdNext = true;
    network.msw.use(
      http.post(`${baseUrl}/:id`, async () => {
        if (!holdNext) return undefined;
        holdNext = false;
        await delay(300);
        return undefined;
      }),
    );
    act(() => result.current.retry()); // a refresh now, held back for 300 ms
    await delay(20);
    await network.server.service.forceRelease('page:1');
    const started = Date.now();
    await act(() => result.current.recheck());
    expect(Date.now() - started).toBeLessThan(250);
    expect(result.current.status).toBe('lost');
  });

  it('has a blocked tab look now: free, and `onAvailable` runs', async () => {
    await network.adapterFor(alice).acquire('page:1', { clientId: 'alice-tab' });
    let available = 0;
    const { result } = tabOf(bob, 'bob-tab', {
      ...slow,
      onAvailable: () => {
        available++;
      },
    });
    await waitFor(() => expect(result.current.status).toBe('locked'));
    await network.server.service.forceRelease('page:1');
    const before = network.requests.length;
    await act(() => result.current.recheck());
    expect(result.current.status).toBe('free');
    expect(available).toBe(1);
    expect(network.requests.slice(before).map((request) => request.kind)).toEqual(['status']);
  });

  it('never rejects when the server cannot be reached: the fail-safe decides', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { result } = tabOf(alice, 'alice-tab');
    await waitFor(() => expect(result.current.status).toBe('held'));
    network.msw.use(http.post(`${baseUrl}/:id`, () => HttpResponse.error()));
    await act(() => result.current.recheck());
    // The fail-safe decides: still held until the lease would have lapsed.
    expect(result.current.status).toBe('held');
    expect(result.current.error).not.toBeNull();
    vi.restoreAllMocks();
  });

  it('settles at once after `lost`, asking nothing', async () => {
    const { result } = tabOf(alice, 'alice-tab');
    await waitFor(() => expect(result.current.status).toBe('held'));
    await network.server.service.forceRelease('page:1');
    await act(() => result.current.recheck());
    expect(result.current.status).toBe('lost');
    const before = network.requests.length;
    await act(() => result.current.recheck());
    expect(network.requests.length).toBe(before);
  });
});
