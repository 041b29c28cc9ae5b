import { describe, expect, it } from 'vitest';
import type { LockEvent } from '../../server-adapter/service/events';
import { createLockService, type LockService } from '../../server-adapter/service/lock-service';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';

const alice: LockUser = { id: 'u-alice', name: 'Alice' };
const mallory: LockUser = { id: 'u-mallory', name: 'Mallory' };
const START = 1_700_000_000_000;
const TTL = 60_000;

/**
 * A takeover reads the resource first (fence, then policy), and only then asks the store to
 * grant it. When that first read sees the resource free because its holder's lease lapsed, no
 * policy is asked; if the holder resumes in between (same fence: a resume is not a new grant),
 * the store must not hand the now-live lock to someone the policy never approved (invariant 3).
 */
describe('a takeover racing with the holder’s resume', () => {
  /** The memory store; `betweenReadAndWrite` runs right after the service's first read. */
  function storeWithGap() {
    const real = createMemoryLockStore();
    let betweenReadAndWrite: (() => Promise<void>) | null = null;
    const store: LockStore = {
      ...real,
      async get(resourceId, clock) {
        const seen = await real.get(resourceId, clock);
        const gap = betweenReadAndWrite;
        betweenReadAndWrite = null;
        await gap?.();
        return seen;
      },
    };
    return {
      store,
      inTheGap(run: () => Promise<void>) {
        betweenReadAndWrite = run;
      },
    };
  }

  async function aliceLapsedThenMalloryTakesOver(
    onResume: (service: LockService, token: string) => Promise<unknown>,
  ) {
    let clock = START;
    const events: LockEvent[] = [];
    const { store, inTheGap } = storeWithGap();
    const service = createLockService({
      store,
      ttl: TTL,
      now: () => clock,
      onEvent: (event) => events.push(event),
      // Nobody may take another user's lock.
      canTakeOver: () => false,
    });
    const held = await service.acquire('page:1', alice, { clientId: 'tab-a' });
    if (held.status !== 'held') throw new Error('alice should hold page:1');
    clock += TTL + 1; // Alice's laptop slept: her lease lapsed, nobody took the page.

    let resumed: unknown;
    inTheGap(async () => {
      clock += 1;
      resumed = await onResume(service, held.token);
    });
    const taken = await service.takeOver('page:1', mallory, {
      clientId: 'tab-m',
      expectedFence: held.lock.fence,
    });
    return { service, held, resumed, taken, events, now: () => clock };
  }

  it('does not displace a holder who resumed with her token meanwhile', async () => {
    const { service, held, resumed, taken, events, now } = await aliceLapsedThenMalloryTakesOver(
      (service, token) => service.acquire('page:1', alice, { clientId: 'tab-a', token }),
    );
    expect(resumed).toMatchObject({ status: 'held', via: 'resumed' });
    expect(resumed).toMatchObject({ lock: { fence: held.lock.fence } });
    expect(taken).toMatchObject({ status: 'fence-mismatch', lock: { holder: alice } });
    await expect(service.assertHeld('page:1', held.token, alice)).resolves.toMatchObject({
      holder: alice,
      fence: held.lock.fence,
      expiresAt: now() + TTL,
    });
    expect(events.map((event) => event.type)).not.toContain('taken-over');
  });

  it('does not displace a holder who reclaimed after a reload meanwhile', async () => {
    const { service, resumed, taken } = await aliceLapsedThenMalloryTakesOver((service) =>
      service.acquire('page:1', alice, { clientId: 'tab-a' }),
    );
    expect(resumed).toMatchObject({ status: 'held', via: 'reclaimed' });
    expect(taken).toMatchObject({ status: 'fence-mismatch', lock: { holder: alice } });
    const token = (resumed as { token: string }).token;
    await expect(service.assertHeld('page:1', token, alice)).resolves.toMatchObject({
      holder: alice,
    });
  });

  it('still grants the resource when it stayed free', async () => {
    const { taken } = await aliceLapsedThenMalloryTakesOver(async () => null);
    expect(taken).toMatchObject({ status: 'held', lock: { holder: mallory, fence: 2 } });
  });
});
