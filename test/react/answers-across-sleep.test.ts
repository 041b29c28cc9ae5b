import { afterEach, describe, expect, it, vi } from 'vitest';
import { LockSession } from '../../src/client/lock-session';
import type { LockAdapter } from '../../src/core/adapter';
import { PageLifecycle } from '../../src/core/page-lifecycle';
import { alice, createTestQueryClient, setupLockNetwork } from './lock-harness';

// The monotonic clock stands still while the machine sleeps (as in several browsers); the wall
// clock and the server's clock run on. The session runs without React, through the HTTP adapter.

const network = setupLockNetwork({ ttl: 30_000 });

afterEach(() => {
  vi.restoreAllMocks();
});

function sleepFor(ms: number): void {
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
  network.server.advance(ms);
}

describe('a refresh whose answer was on its way while the machine slept', () => {
  it('is not trusted: editing resumes only after a round trip sent after the sleep', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const real = network.adapterFor(alice);
    let answerHeldBack: Promise<void> | null = null;
    const adapter: LockAdapter = {
      ...real,
      acquire: async (...args) => {
        const answer = await real.acquire(...args);
        if (answerHeldBack) await answerHeldBack;
        return answer;
      },
    };
    const lifecycle = new PageLifecycle();
    lifecycle.setEventListener(() => () => {});
    const session = new LockSession({
      client: createTestQueryClient(),
      adapter,
      resourceId: 'page:1',
      clientId: 'alice-tab',
      lifecycle,
      monotonicNow: () => 1_000,
    });
    session.addUser({ options: () => ({ pollInterval: 100_000 }) });
    session.start();
    await vi.waitFor(() => expect(session.getSnapshot().status).toBe('held'));

    // A refresh: the server answers at once (a lease to 30 s from now), then the machine sleeps
    // for a minute before the answer is read.
    let wake: () => void = () => {};
    answerHeldBack = new Promise((resolve) => {
      wake = resolve;
    });
    session.retry();
    await vi.waitFor(() => expect(network.count('refresh')).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 30));
    sleepFor(60_000);
    const statuses: string[] = [];
    session.subscribe(() => statuses.push(session.getSnapshot().status));
    answerHeldBack = null;
    wake();

    // That lease lapsed during the sleep: a new refresh confirms (here, resumes) it.
    await vi.waitFor(() => expect(network.count('refresh')).toBe(2));
    await vi.waitFor(() => expect(session.getSnapshot().status).toBe('held'));
    expect(statuses[0]).toBe('acquiring');
    expect(session.getSnapshot().expiresAt).toBeGreaterThan(network.server.now());
    await session.stop();
  });
});
