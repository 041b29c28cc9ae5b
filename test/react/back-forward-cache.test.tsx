import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, bob, lockWrapper, setupLockNetwork } from './lock-harness';

// A page frozen in the back/forward cache keeps the editor's content of the moment it was left.
// What the lock does when it comes back must not let that old content be saved over newer work.

const network = setupLockNetwork();
const fast = { pollInterval: 50 };

afterEach(() => {
  vi.unstubAllGlobals();
});

/** `navigator.sendBeacon` as a browser sends it: a POST of the Blob, with no custom headers. */
function stubBeacon() {
  const sendBeacon = vi.fn((url: string, data: Blob) => {
    void data
      .text()
      .then((body) => fetch(url, { method: 'POST', headers: { 'Content-Type': data.type }, body }));
    return true;
  });
  vi.stubGlobal('navigator', { ...navigator, sendBeacon });
}

function leaveIntoCache(): void {
  act(() => {
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
  });
}

function comeBackFromCache(): void {
  act(() => {
    window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
  });
}

async function bobEditsAndLeaves(): Promise<void> {
  const bobs = await network.adapterFor(bob).acquire('page:1', { clientId: 'bob-tab' });
  if (bobs.status !== 'held') throw new Error('Bob should get the free page');
  await network.adapterFor(bob).release('page:1', bobs.token);
}

describe('coming back from the back/forward cache', () => {
  it('takes the lock back when nobody else held the page meanwhile', async () => {
    stubBeacon();
    const { result } = renderHook(() => ({ ...usePageLock('page:1', fast) }), {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(result.current.status).toBe('held'));
    leaveIntoCache();
    await waitFor(async () => expect(await network.server.service.list()).toEqual([]));
    comeBackFromCache();
    await waitFor(() => expect(result.current.status).toBe('held'));
  });

  it('does not hand the old content a lock when someone else held the page meanwhile: lost, edited-meanwhile', async () => {
    stubBeacon();
    const onLost = vi.fn();
    const { result } = renderHook(() => ({ ...usePageLock('page:1', { ...fast, onLost }) }), {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(result.current.status).toBe('held'));
    leaveIntoCache();
    await waitFor(async () => expect(await network.server.service.list()).toEqual([]));
    await bobEditsAndLeaves();
    comeBackFromCache();
    await waitFor(() => expect(result.current.status).toBe('lost'));
    expect(result.current).toMatchObject({ reason: 'edited-meanwhile', isOwner: false });
    expect(onLost).toHaveBeenCalledTimes(1);
    await waitFor(async () => expect(await network.server.service.list()).toEqual([]));
  });

  it('has a tab that was blocked look again, not acquire: free, and the page reloads', async () => {
    const bobs = await network.adapterFor(bob).acquire('page:1', { clientId: 'bob-tab' });
    if (bobs.status !== 'held') throw new Error('Bob should get the free page');
    const { result } = renderHook(() => ({ ...usePageLock('page:1', fast) }), {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(result.current.status).toBe('locked'));
    leaveIntoCache();
    await network.adapterFor(bob).release('page:1', bobs.token);
    comeBackFromCache();
    await waitFor(() => expect(result.current.status).toBe('free'));
    expect(network.reloads).toBe(1);
    expect(await network.server.service.list()).toEqual([]);
  });
});
