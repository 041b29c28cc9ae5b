import { renderHook, waitFor } from '@testing-library/react';
import { delay, HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import type { LockAdapter } from '../../src/core/adapter';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, baseUrl, lockWrapper, setupLockNetwork } from './lock-harness';

// A short lease (600 ms, so polls every 200 ms) makes the fail-safe observable in real time.
const network = setupLockNetwork({ ttl: 600 });

describe('a refresh answered later than the lease it grants', () => {
  it('does not make a lost (unreachable) tab the holder for a moment, nor run its callbacks twice', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const real = network.adapterFor(alice);
    let holdBackNextAnswer = false;
    const adapter: LockAdapter = {
      ...real,
      acquire: async (...args) => {
        const answer = await real.acquire(...args);
        if (holdBackNextAnswer) {
          holdBackNextAnswer = false;
          // Longer than the whole lease: by the time it is read, the lease may have lapsed.
          await delay(800);
        }
        return answer;
      },
    };
    const onAcquired = vi.fn();
    const onLost = vi.fn();
    const statuses: string[] = [];
    const { result } = renderHook(
      () => {
        const lock = usePageLock('page:1', { onAcquired, onLost });
        statuses.push(lock.status);
        return { ...lock };
      },
      { wrapper: lockWrapper({ adapter, clientId: 'alice-tab' }) },
    );
    await waitFor(() => expect(result.current.status).toBe('held'));

    network.msw.use(http.post(`${baseUrl}/:id`, () => HttpResponse.error()));
    await waitFor(() => expect(result.current.status).toBe('lost'), { timeout: 2_000 });
    expect(result.current.reason).toBe('unreachable');

    holdBackNextAnswer = true;
    network.msw.resetHandlers();
    statuses.length = 0;
    // The held-back answer arrives ~800 ms later; the next refresh then really resumes the lease.
    await waitFor(() => expect(result.current.status).toBe('held'), { timeout: 3_000 });
    await delay(100);
    // Lost until a lease it can trust comes back, then held for good: no held → lost → held.
    const firstHeld = statuses.indexOf('held');
    expect(statuses.slice(0, firstHeld).every((status) => status === 'lost')).toBe(true);
    expect(statuses.slice(firstHeld).every((status) => status === 'held')).toBe(true);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(onAcquired).toHaveBeenCalledTimes(2);
  });
});
