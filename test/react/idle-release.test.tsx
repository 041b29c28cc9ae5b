import { act, render, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { PageLockOptions } from '../../src/client/lock-options';
import { pageLifecycle } from '../../src/core/page-lifecycle';
import type { LockUser } from '../../src/protocol/protocol';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, bob, lockWrapper, type SeenRequest, setupLockNetwork } from './lock-harness';

// Idle release through the real thing (HTTP adapter, MSW, the memory server): a holder with no
// input for `idleTimeout` is warned, and released `idleWarning` later unless it keeps editing.

const network = setupLockNetwork();
const idle = { pollInterval: 100, idleTimeout: 150, idleWarning: 300 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tab(user: LockUser, options: PageLockOptions = idle) {
  return renderHook(() => ({ ...usePageLock('page:1', options) }), {
    wrapper: lockWrapper({
      adapter: network.adapterFor(user),
      clientId: `${user.id}-tab`,
      pollInterval: options.pollInterval,
    }),
  });
}

const sent = (user: string, kind: SeenRequest['kind']) =>
  network.requests.filter((request) => request.user === user && request.kind === kind);

/** An editor that shows the warning, and what it rendered. */
const editor = { renders: 0, status: '', keepEditing: () => {} };
function Editor() {
  const lock = usePageLock('page:1', idle);
  editor.renders++;
  editor.keepEditing = lock.keepEditing;
  editor.status = lock.status;
  return lock.idleReleaseAt === null ? null : <p>warned</p>;
}

describe('idle release', () => {
  it('warns an idle holder, then runs onIdle and releases the page to whoever waits', async () => {
    const onLost = vi.fn();
    let draftSaved = false;
    const onIdle = vi.fn(async () => {
      await sleep(30);
      draftSaved = true;
    });
    const holder = tab(alice, { ...idle, onIdle, onLost });
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    const asker = tab(bob, { pollInterval: 100 });
    await waitFor(() => expect(asker.result.current.canAsk).toBe(true));
    act(() => asker.result.current.ask());
    await waitFor(() => expect(asker.result.current.place).toBe(1));

    await waitFor(() => expect(holder.result.current.idleReleaseAt).not.toBeNull());
    const { idleReleaseAt, serverTimeOffset } = holder.result.current;
    const serverNow = Date.now() + serverTimeOffset;
    // On the server's clock, about idleWarning from now.
    expect(idleReleaseAt).toBeGreaterThan(serverNow + 150);
    expect(idleReleaseAt).toBeLessThanOrEqual(serverNow + 300);
    expect(holder.result.current.status).toBe('held');

    await waitFor(() => expect(holder.result.current.status).toBe('lost'));
    expect(holder.result.current).toMatchObject({
      reason: 'idle',
      idleReleaseAt: null,
      token: null,
    });
    expect(onIdle).toHaveBeenCalledTimes(1);
    expect(draftSaved).toBe(true);
    expect(onLost).not.toHaveBeenCalled();
    await waitFor(() => expect(sent('alice', 'release')).toHaveLength(1));
    expect(sent('alice', 'release')[0]?.body).toMatchObject({ reason: 'idle' });
    // The page went to Bob, first in line.
    await waitFor(() => expect(asker.result.current.status).toBe('held'));
  });

  it('keeps the lock when the user answers the warning (keepEditing)', async () => {
    const onIdle = vi.fn();
    const holder = tab(alice, { ...idle, idleTimeout: 300, idleWarning: 150, onIdle });
    await waitFor(() => expect(holder.result.current.idleReleaseAt).not.toBeNull());
    act(() => holder.result.current.keepEditing());
    expect(holder.result.current.idleReleaseAt).toBeNull();
    await sleep(200); // past where the warning would have released it, before the next one
    expect(holder.result.current.status).toBe('held');
    expect(onIdle).not.toHaveBeenCalled();
    // And the idle time counts again from that input.
    await waitFor(() => expect(holder.result.current.idleReleaseAt).not.toBeNull());
  });

  it('never warns while input keeps coming, and input costs no render', async () => {
    editor.renders = 0;
    const view = render(<Editor />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await waitFor(() => expect(editor.status).toBe('held'));
    const before = editor.renders;
    for (let i = 0; i < 10; i++) {
      editor.keepEditing(); // as the overlay does on every keydown
      await sleep(50);
    }
    expect(view.queryByText('warned')).toBeNull();
    expect(editor.status).toBe('held');
    expect(editor.renders).toBe(before);
    await waitFor(() => expect(view.getByText('warned')).toBeTruthy());
  });

  it('counts a hidden tab as idle, whatever calls keepEditing', async () => {
    const holder = tab(alice);
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    act(() => pageLifecycle.setVisible(false));
    const nudges = setInterval(() => holder.result.current.keepEditing(), 30);
    try {
      await waitFor(() => expect(holder.result.current.idleReleaseAt).not.toBeNull());
    } finally {
      clearInterval(nudges);
    }
  });

  it('is off unless idleTimeout is set', async () => {
    const holder = tab(alice, { pollInterval: 100, idleWarning: 10 });
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    await sleep(400);
    expect(holder.result.current).toMatchObject({ status: 'held', idleReleaseAt: null });
    expect(sent('alice', 'release')).toHaveLength(0);
  });
});
