import { describe, expect, it } from 'vitest';
import { createLockService } from '../../server-adapter/service/lock-service';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';
import { alice, BASE, createHarness, json } from './handler-harness';

const bob: LockUser = { id: 'u-bob', name: 'Bob' };

describe('one clock, checked (invariant 6)', () => {
  it.each([
    ['NaN', () => Number.NaN],
    ['Infinity', () => Number.POSITIVE_INFINITY],
    ['a Date', () => new Date() as unknown as number],
    ['a string', () => String(Date.now()) as unknown as number],
    ['undefined', () => undefined as unknown as number],
  ])('treats a clock returning %s as an error, never a grant', async (_, now) => {
    const store = createMemoryLockStore();
    const service = createLockService({ store, now });
    const attempts = [
      service.acquire('page:1', alice, { clientId: 'tab-a' }),
      service.acquire('page:1', bob, { clientId: 'tab-b' }),
      service.takeOver('page:1', bob, { clientId: 'tab-b', expectedFence: 0 }),
    ];
    for (const attempt of attempts) {
      await expect(attempt).rejects.toThrow(/\[page-lock\] \[service\] Option "now" returned/);
    }
    expect(store.size).toBe(0);
  });

  it('answers a bad clock with a 500 over HTTP, reported, and nothing granted', async () => {
    const store = createMemoryLockStore();
    const errors: unknown[] = [];
    const h = createHarness({ store, handler: { onError: (error) => errors.push(error) } });
    // The same handler over a service whose clock broke: swap in a service with a NaN clock.
    const broken = createLockService({ store, now: () => Number.NaN });
    const { createLockHandler } = await import('../../server-adapter/handler/lock-handler');
    const handler = createLockHandler({
      service: broken,
      basePath: BASE,
      getUser: () => alice,
      onError: (error) => errors.push(error),
    });
    const response = await handler(
      new Request(`http://admin.test${BASE}/page%3A1`, {
        method: 'POST',
        body: JSON.stringify({ clientId: 'tab-a' }),
      }),
    );
    expect(response.status).toBe(500);
    expect(errors).toHaveLength(1);
    expect(store.size).toBe(0);
    expect(await h.service.list()).toEqual([]);
  });

  it('refuses a now option that is not a function when the service is made', () => {
    expect(() =>
      createLockService({ store: createMemoryLockStore(), now: 5 as unknown as () => number }),
    ).toThrow(/\[page-lock\] \[service\].*"now"/);
  });

  it('answers every change with the time it was decided at', async () => {
    const h = createHarness();
    h.advance(1_234);
    const held = await json(await h.acquire('page:1', alice, 'tab-a'));
    expect(held.now).toBe(h.now());
    expect(held.lock.expiresAt - held.now).toBe(held.ttlMs);
  });
});
