import { renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { createMemoryLockAdapter } from '../../src/memory/memory-adapter';
import { createMemoryLockServer } from '../../src/memory/memory-server';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, lockWrapper } from './lock-harness';

describe('a reclaim hands out a fresh token', () => {
  it('adopts the reclaimed token, so the old page’s late release ends nothing', async () => {
    const server = createMemoryLockServer({ ttl: 30_000 });
    const adapter = createMemoryLockAdapter({ user: alice, server });
    // The page before a reload held the lock in this tab; its pagehide beacon is still on its way.
    const before = await adapter.acquire('page:1', { clientId: 'alice-tab' });
    if (before.status !== 'held') throw new Error('expected the first page to hold the lock');

    const { result, unmount } = renderHook(
      () => ({ ...usePageLock('page:1', { pollInterval: 40 }) }),
      {
        wrapper: lockWrapper({ adapter, clientId: 'alice-tab' }),
      },
    );
    await waitFor(() => expect(result.current.status).toBe('held'));
    const token = result.current.token as string;
    expect(token).not.toBe(before.token);
    // Same lock: fence and since kept.
    expect(result.current.fence).toBe(before.lock.fence);
    expect(result.current.since).toBe(before.lock.since);

    // The late beacon, with the old page's token.
    await adapter.release('page:1', before.token);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(result.current.status).toBe('held');
    await expect(server.service.assertHeld('page:1', token, alice)).resolves.toMatchObject({
      fence: before.lock.fence,
    });
    // Let the session stop (one tick after unmount) before the test environment goes away.
    unmount();
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
});
