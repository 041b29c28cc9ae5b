import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMEOUT_DELAY, setCappedTimeout } from '../../src/client/capped-timeout';
import { LockSession } from '../../src/client/lock-session';
import type { LockAdapter } from '../../src/core/adapter';
import { LockAdapterError } from '../../src/core/adapter';
import { PageLifecycle } from '../../src/core/page-lifecycle';
import { createMemoryLockAdapter } from '../../src/memory/memory-adapter';
import { createMemoryLockServer } from '../../src/memory/memory-server';
import { createTestQueryClient } from './lock-harness';

// The session without React: a sleeping machine is simulated by moving the wall clock while
// the monotonic clock stands still (as it does in several browsers while the machine sleeps).

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

function startSession(adapter: LockAdapter) {
  let mono = 1_000;
  const lifecycle = new PageLifecycle();
  lifecycle.setEventListener(() => () => {});
  const session = new LockSession({
    client: createTestQueryClient(),
    adapter,
    resourceId: 'page:1',
    clientId: 'tab-1',
    lifecycle,
    monotonicNow: () => mono,
  });
  const statuses: string[] = [];
  session.subscribe(() => statuses.push(session.getSnapshot().status));
  session.addUser({ options: () => ({ pollInterval: 100_000 }) });
  session.start();
  return { session, statuses, advanceMono: (ms: number) => (mono += ms), lifecycle };
}

function sleepFor(ms: number): void {
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
}

describe('LockSession after the machine slept', () => {
  it('stops editing until the next refresh confirms the lease, then edits again', async () => {
    const server = createMemoryLockServer({ ttl: 30_000 });
    const adapter = createMemoryLockAdapter({ user: { id: 'alice', name: 'Alice' }, server });
    const { session, statuses } = startSession(adapter);
    await vi.waitFor(() => expect(session.getSnapshot().status).toBe('held'));
    session.retry(); // one ordinary refresh, so there is a "last send" to compare with
    await vi.waitFor(() => expect(statuses.filter((s) => s === 'held').length).toBeGreaterThan(0));
    await new Promise((resolve) => setTimeout(resolve, 20));
    statuses.length = 0;

    sleepFor(60_000);
    session.retry();
    expect(session.getSnapshot()).toMatchObject({ status: 'acquiring', isOwner: false });
    await vi.waitFor(() => expect(session.getSnapshot().status).toBe('held'));
    expect(statuses).toEqual(['acquiring', 'held']);
    await session.stop();
  });

  it('is lost (unreachable) at once when that confirming refresh gets no answer', async () => {
    const server = createMemoryLockServer({ ttl: 30_000 });
    const real = createMemoryLockAdapter({ user: { id: 'alice', name: 'Alice' }, server });
    let offline = false;
    const adapter: LockAdapter = {
      ...real,
      acquire: (...args) =>
        offline
          ? Promise.reject(new LockAdapterError('network', '[page-lock] [test] offline'))
          : real.acquire(...args),
    };
    const { session } = startSession(adapter);
    await vi.waitFor(() => expect(session.getSnapshot().status).toBe('held'));
    session.retry();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { token } = session.getSnapshot();

    offline = true;
    sleepFor(60_000);
    session.retry();
    await vi.waitFor(() => expect(session.getSnapshot().status).toBe('lost'));
    expect(session.getSnapshot()).toMatchObject({ reason: 'unreachable', token });

    offline = false;
    session.retry();
    await vi.waitFor(() => expect(session.getSnapshot().status).toBe('held'));
    await session.stop();
  });

  it('is lost (unreachable) by its deadline timer, measured from the send time of the last refresh', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const server = createMemoryLockServer({ ttl: 30_000, now: () => 5_000_000 });
    const adapter = createMemoryLockAdapter({ user: { id: 'alice', name: 'Alice' }, server });
    const { session, advanceMono } = startSession(adapter);
    await vi.waitFor(() => expect(session.getSnapshot().status).toBe('held'));
    advanceMono(29_000);
    vi.advanceTimersByTime(29_000);
    expect(session.getSnapshot().status).toBe('held');
    advanceMono(1_000);
    vi.advanceTimersByTime(1_000);
    expect(session.getSnapshot()).toMatchObject({ status: 'lost', reason: 'unreachable' });
    vi.useRealTimers();
    await session.stop();
  });
});

describe('setCappedTimeout', () => {
  it('waits the whole delay beyond 2^31−1 ms instead of firing at once', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    setCappedTimeout(fired, MAX_TIMEOUT_DELAY + 1_000);
    vi.advanceTimersByTime(MAX_TIMEOUT_DELAY);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('never fires for Infinity, and can be cancelled', () => {
    vi.useFakeTimers();
    const forever = vi.fn();
    const cancelled = vi.fn();
    setCappedTimeout(forever, Number.POSITIVE_INFINITY);
    const cancel = setCappedTimeout(cancelled, 10);
    cancel();
    vi.advanceTimersByTime(MAX_TIMEOUT_DELAY * 2);
    expect(forever).not.toHaveBeenCalled();
    expect(cancelled).not.toHaveBeenCalled();
  });
});
