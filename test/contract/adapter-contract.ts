import type { LockAdapter, TakeOverResponse } from '../../src/core/adapter';
import type {
  AcquireResponse,
  AskResponse,
  BatchStatusResponse,
  HeldResponse,
  LockedResponse,
  LostResponse,
  QueuedResponse,
  StatusResponse,
} from '../../src/protocol/protocol';
import type { ContractTestApi, ContractTestContext } from './store-contract';

/**
 * Adapters as the contract suite drives them: two users who share one lock server, and the
 * server's clock.
 *
 * The server must use the default takeover policy (another user may never take over) and a
 * lease (`ttl`) that {@link advance} can move past.
 *
 * @example
 * ```ts
 * runLockAdapterContract('memory adapter', () => {
 *   const server = createMemoryLockServer();
 *   return {
 *     alice: createMemoryLockAdapter({ user: { id: 'alice', name: 'Alice' }, server }),
 *     bob: createMemoryLockAdapter({ user: { id: 'bob', name: 'Bob' }, server }),
 *     advance: (ms) => server.advance(ms),
 *   };
 * }, { describe, it, expect, beforeEach, afterEach });
 * ```
 */
export interface AdaptersUnderTest {
  /** Signed in as one user. */
  alice: LockAdapter;
  /** Signed in as another user, on the same server. */
  bob: LockAdapter;
  /**
   * Alice in a second tab or device. Tabs differ by `clientId`, so this defaults to `alice`;
   * give a separate adapter when yours keeps per-tab state.
   */
  aliceElsewhere?: LockAdapter;
  /** Moves the server's clock forward by `ms` (to let leases lapse). */
  advance(ms: number): void | Promise<void>;
  /** Runs after each test. */
  cleanup?(): void | Promise<void>;
}

/**
 * The client-visible contract every {@link LockAdapter} must keep against a lock server:
 * DESIGN.md's wire protocol as seen through `acquire`, `release`, `takeOver`, `status` and
 * `statusMany`. Each test uses fresh resource ids, so a shared server is fine.
 *
 * @param name - How the adapter is named in the test report.
 * @param setup - Makes fresh {@link AdaptersUnderTest} before each test.
 * @param api - The test framework's `describe`, `it`, `expect`, `beforeEach`, `afterEach`.
 */
export function runLockAdapterContract(
  name: string,
  setup: () => AdaptersUnderTest | Promise<AdaptersUnderTest>,
  api: ContractTestApi,
): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  const runId = Math.random().toString(36).slice(2, 10);
  let sequence = 0;
  let subject: AdaptersUnderTest;

  const uniqueId = (label: string): string => `contract-${runId}-${++sequence}:${label}`;
  const tab = (): string => `tab-${runId}-${++sequence}`;
  const alice = (): LockAdapter => subject.alice;
  const bob = (): LockAdapter => subject.bob;
  const aliceElsewhere = (): LockAdapter => subject.aliceElsewhere ?? subject.alice;

  const carriesNow = (answer: { now: unknown }): void => {
    expect(typeof answer.now).toBe('number');
  };
  const held = (answer: AcquireResponse | TakeOverResponse | AskResponse): HeldResponse => {
    expect(answer.status).toBe('held');
    if (answer.status !== 'held') throw new Error(`expected held, got ${answer.status}`);
    carriesNow(answer);
    return answer;
  };
  const locked = (answer: AcquireResponse): LockedResponse => {
    expect(answer.status).toBe('locked');
    if (answer.status !== 'locked') throw new Error(`expected locked, got ${answer.status}`);
    carriesNow(answer);
    return answer;
  };
  const lost = (answer: AcquireResponse): LostResponse => {
    expect(answer.status).toBe('lost');
    if (answer.status !== 'lost') throw new Error(`expected lost, got ${answer.status}`);
    carriesNow(answer);
    return answer;
  };
  /** Alice's first grant of a fresh resource: the precondition of most tests. */
  const aliceHolds = async (label = 'page') => {
    const id = uniqueId(label);
    const clientId = tab();
    const answer = held(await alice().acquire(id, { clientId }));
    return { id, clientId, answer };
  };
  /** The protocol's error code a rejection carries (`LockAdapterError.code`), if any. */
  const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;
  const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    throw new Error('expected the call to reject');
  };

  describe(`${name}: lock adapter contract`, () => {
    beforeEach(async () => {
      subject = await setup();
    });

    afterEach(async () => {
      await subject.cleanup?.();
    });

    describe('acquire', () => {
      it('grants a free resource: the lock, a token and the lease length', async () => {
        const { id, answer } = await aliceHolds();
        expect(answer.lock.resourceId).toBe(id);
        expect(answer.lock.fence).toBeGreaterThan(0);
        expect(typeof answer.token).toBe('string');
        expect(answer.token.length).toBeGreaterThan(0);
        expect(answer.ttlMs).toBeGreaterThan(0);
        expect(answer.lock.expiresAt).toBeGreaterThan(answer.now);
        expect(answer.lock.since).toBe(answer.lock.acquiredAt);
      });

      it('tells another user who holds it, without the token, and that they may not take over', async () => {
        const { id, answer } = await aliceHolds();
        const bobSees = locked(await bob().acquire(id, { clientId: tab() }));
        expect(bobSees.lock).toEqual(answer.lock);
        expect(bobSees.isSelf).toBe(false);
        expect(bobSees.canTakeOver).toBe(false);
        expect(bobSees.ttlMs).toBe(answer.ttlMs);
        expect(JSON.stringify(bobSees).includes(answer.token)).toBe(false);
      });

      it('tells the same user in another tab that it is theirs elsewhere, and may be taken over', async () => {
        const { id, answer } = await aliceHolds();
        const otherTab = locked(await aliceElsewhere().acquire(id, { clientId: tab() }));
        expect(otherTab.lock.fence).toBe(answer.lock.fence);
        expect(otherTab.isSelf).toBe(true);
        expect(otherTab.canTakeOver).toBe(true);
      });

      it('gives a reloaded tab (same clientId, no token) its own lock back: same fence, a fresh token', async () => {
        const { id, clientId, answer } = await aliceHolds();
        const reclaimed = held(await alice().acquire(id, { clientId }));
        expect(reclaimed.token).not.toBe(answer.token);
        expect(reclaimed.lock.fence).toBe(answer.lock.fence);
        expect(reclaimed.lock.since).toBe(answer.lock.since);
        // The page before the reload may still send its release: with the old token it ends nothing.
        expect(await alice().release(id, answer.token)).toBe('not-holder');
        expect(held(await alice().acquire(id, { clientId, token: reclaimed.token })).token).toBe(
          reclaimed.token,
        );
      });

      it('refreshes with the live token: same fence, same since, the lease moves on', async () => {
        const { id, clientId, answer } = await aliceHolds();
        await subject.advance(1_000);
        const refreshed = held(await alice().acquire(id, { clientId, token: answer.token }));
        expect(refreshed.lock.fence).toBe(answer.lock.fence);
        expect(refreshed.lock.since).toBe(answer.lock.since);
        expect(refreshed.lock.expiresAt).toBeGreaterThan(answer.lock.expiresAt);
        expect(refreshed.resumed === true).toBe(false);
      });

      it('takes resource ids with any characters: slashes, colons, query marks, unicode', async () => {
        const id = uniqueId('pages/ü ñ?#&%20/1');
        const clientId = tab();
        const answer = held(await alice().acquire(id, { clientId }));
        expect(answer.lock.resourceId).toBe(id);
        const status = await bob().status(id);
        expect(status.status === 'locked' && status.lock.resourceId).toBe(id);
        expect(await alice().release(id, answer.token)).toBe('released');
      });

      it('rejects with the signal’s reason when the call is aborted', async () => {
        const reason = new Error('navigated away');
        const controller = new AbortController();
        controller.abort(reason);
        const error = await rejectionOf(
          alice().acquire(uniqueId('page'), { clientId: tab() }, { signal: controller.signal }),
        );
        expect(error).toBe(reason);
      });
    });

    describe('release', () => {
      it('releases, and a late poll with the old token never takes the lock back', async () => {
        const { id, clientId, answer } = await aliceHolds();
        expect(await alice().release(id, answer.token)).toBe('released');
        const late = lost(await alice().acquire(id, { clientId, token: answer.token }));
        expect(late.reason).toBe('released');
        const after = await bob().status(id);
        expect(after.status).toBe('free');
      });

      it('answers released for a resource that is already free', async () => {
        const { id, answer } = await aliceHolds();
        expect(await alice().release(id, answer.token)).toBe('released');
        expect(await alice().release(id, answer.token)).toBe('released');
      });

      it('answers not-holder to a token that is not the holder’s, and keeps the lock', async () => {
        const { id, answer } = await aliceHolds();
        expect(await bob().release(id, 'not-the-holders-token-0123456789')).toBe('not-holder');
        const status = await bob().status(id);
        expect(status.status === 'locked' && status.lock.fence).toBe(answer.lock.fence);
      });

      it('releases on pagehide (keepalive) at once, and the server frees the resource', async () => {
        const { id, answer } = await aliceHolds();
        expect(await alice().release(id, answer.token, { keepalive: true })).toBe('released');
        let status: StatusResponse = await bob().status(id);
        for (let attempt = 0; attempt < 50 && status.status !== 'free'; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          status = await bob().status(id);
        }
        expect(status.status).toBe('free');
      });
    });

    describe('status', () => {
      it('observes without acquiring: free, locked for others, held for the holding tab', async () => {
        const free = await bob().status(uniqueId('page'), { clientId: tab() });
        expect(free.status).toBe('free');
        carriesNow(free);

        const { id, clientId, answer } = await aliceHolds();
        const bobSees = await bob().status(id, { clientId: tab() });
        expect(bobSees.status).toBe('locked');
        expect(bobSees.status !== 'free' && bobSees.lock).toEqual(answer.lock);
        expect(bobSees.status !== 'free' && bobSees.isSelf).toBe(false);
        expect(bobSees.status !== 'free' && bobSees.canTakeOver).toBe(false);

        const holderSees = await alice().status(id, { clientId });
        expect(holderSees.status).toBe('held');
        const otherTabSees = await aliceElsewhere().status(id, { clientId: tab() });
        expect(otherTabSees.status).toBe('locked');
        expect(otherTabSees.status !== 'free' && otherTabSees.isSelf).toBe(true);
        const withoutClientId = await alice().status(id);
        expect(withoutClientId.status).toBe('locked');

        // Observing granted nothing: the holder still refreshes with the same fence.
        const refreshed = held(await alice().acquire(id, { clientId, token: answer.token }));
        expect(refreshed.lock.fence).toBe(answer.lock.fence);
      });

      it('observes many resources in one call', async () => {
        const { id: aliceId, clientId } = await aliceHolds('mine');
        const freeId = uniqueId('free');
        const bobId = uniqueId('bobs');
        held(await bob().acquire(bobId, { clientId: tab() }));

        const seen: BatchStatusResponse = await alice().statusMany([aliceId, freeId, bobId], {
          clientId,
        });
        carriesNow(seen);
        expect(Object.keys(seen.locks).sort()).toEqual([aliceId, bobId, freeId].sort());
        expect(seen.locks[aliceId]?.status).toBe('held');
        expect(seen.locks[freeId]?.status).toBe('free');
        expect(seen.locks[bobId]?.status).toBe('locked');
        const bobs = seen.locks[bobId];
        expect(bobs?.status === 'locked' && bobs.isSelf).toBe(false);
      });

      it('refuses more than 100 ids', async () => {
        const ids = Array.from({ length: 101 }, (_, index) => uniqueId(`many-${index}`));
        const error = await rejectionOf(alice().statusMany(ids));
        expect(error instanceof Error).toBe(true);
      });
    });

    describe('takeover', () => {
      it('refuses a stale expectedFence (fence-mismatch), showing the current lock', async () => {
        const { id, answer } = await aliceHolds();
        const refused: TakeOverResponse = await aliceElsewhere().takeOver(id, {
          clientId: tab(),
          expectedFence: answer.lock.fence - 1,
        });
        expect(refused.status).toBe('refused');
        if (refused.status !== 'refused') return;
        carriesNow(refused);
        expect(refused.reason).toBe('fence-mismatch');
        expect(refused.lock).toEqual(answer.lock);
      });

      it('refuses another user without permission (forbidden)', async () => {
        const { id, answer } = await aliceHolds();
        const refused = await bob().takeOver(id, {
          clientId: tab(),
          expectedFence: answer.lock.fence,
        });
        expect(refused.status).toBe('refused');
        if (refused.status !== 'refused') return;
        carriesNow(refused);
        expect(refused.reason).toBe('forbidden');
        expect(refused.lock?.fence).toBe(answer.lock.fence);
      });

      it('lets the same user take over from another tab; the old tab learns it was taken over', async () => {
        const { id, clientId, answer } = await aliceHolds();
        const taken = held(
          await aliceElsewhere().takeOver(id, {
            clientId: tab(),
            expectedFence: answer.lock.fence,
          }),
        );
        expect(taken.lock.fence).toBeGreaterThan(answer.lock.fence);
        expect(taken.token).not.toBe(answer.token);
        expect(taken.lock.since).toBe(answer.lock.since);
        const oldTab = lost(await alice().acquire(id, { clientId, token: answer.token }));
        expect(oldTab.reason).toBe('taken-over');
        expect(oldTab.lock?.fence).toBe(taken.lock.fence);
      });
    });

    describe('lease lapse', () => {
      it('lets another user in after the lease lapses; the old holder’s refresh is lost (expired)', async () => {
        const { id, clientId, answer } = await aliceHolds();
        await subject.advance(answer.ttlMs + 1);
        const bobGets = held(await bob().acquire(id, { clientId: tab() }));
        expect(bobGets.lock.fence).toBeGreaterThan(answer.lock.fence);
        const late = lost(await alice().acquire(id, { clientId, token: answer.token }));
        expect(late.reason).toBe('expired');
        expect(late.lock?.holder).toEqual(bobGets.lock.holder);
      });

      it('tells the old holder its copy is stale (edited-meanwhile) when another held it since', async () => {
        const { id, clientId, answer } = await aliceHolds();
        await subject.advance(answer.ttlMs + 1);
        const bobGets = held(await bob().acquire(id, { clientId: tab() }));
        expect(await bob().release(id, bobGets.token)).toBe('released');
        const late = lost(await alice().acquire(id, { clientId, token: answer.token }));
        expect(late.reason).toBe('edited-meanwhile');
      });

      it('resumes a lapsed lease silently when nobody held the resource since', async () => {
        const { id, clientId, answer } = await aliceHolds();
        await subject.advance(answer.ttlMs + 1);
        const resumed = held(await alice().acquire(id, { clientId, token: answer.token }));
        expect(resumed.resumed).toBe(true);
        expect(resumed.lock.fence).toBeGreaterThan(answer.lock.fence - 1);
        expect(resumed.lock.since).toBe(answer.lock.since);
      });
    });

    describe('ask to edit (optional: ask, answer, leave)', () => {
      /** The adapters' line methods, or null (the test skipped) for an adapter without them. */
      const line = ([context]: [ContractTestContext?]) => {
        const adapters = [alice(), bob()];
        if (adapters.every((adapter) => !adapter.ask && !adapter.answer && !adapter.leave)) {
          context?.skip?.('this adapter has no ask, answer or leave (it offers no "Ask to edit")');
          return null;
        }
        const methods = (adapter: LockAdapter) => {
          const { ask, answer, leave } = adapter;
          // An adapter with some of the three but not all of them breaks the line: it fails here.
          expect([typeof ask, typeof answer, typeof leave]).toEqual([
            'function',
            'function',
            'function',
          ]);
          return {
            ask: ask as NonNullable<LockAdapter['ask']>,
            answer: answer as NonNullable<LockAdapter['answer']>,
            leave: leave as NonNullable<LockAdapter['leave']>,
          };
        };
        return { alice: methods(alice()), bob: methods(bob()) };
      };
      const queued = (answer: AskResponse): QueuedResponse => {
        expect(answer.status).toBe('queued');
        if (answer.status !== 'queued') throw new Error(`expected queued, got ${answer.status}`);
        carriesNow(answer);
        return answer;
      };
      /** Alice holds a fresh resource and Bob waits in line for it. */
      const bobWaits = async (methods: NonNullable<ReturnType<typeof line>>) => {
        const holding = await aliceHolds();
        const bobTab = tab();
        const asked = queued(
          await methods.bob.ask(holding.id, { clientId: bobTab, message: 'Typo' }),
        );
        return { ...holding, bobTab, asked };
      };

      it('puts a blocked user in line; the holder sees the waiter, others see how many wait', async (...context) => {
        const methods = line(context);
        if (!methods) return;
        const { id, clientId, answer, bobTab, asked } = await bobWaits(methods);
        expect(asked.place).toBe(1);
        expect(asked.lock).toEqual(answer.lock);
        expect(asked.waiter.message).toBe('Typo');
        expect(asked.waiter.request).toBe('pending');
        expect(JSON.stringify(asked).includes(bobTab)).toBe(false);
        const refreshed = held(await alice().acquire(id, { clientId, token: answer.token }));
        expect(refreshed.waiters).toEqual([asked.waiter]);
        const status = await aliceElsewhere().status(id);
        expect(status.status === 'locked' && status.waiting).toBe(1);
        // The waiter's poll keeps its place.
        const polled = queued(await methods.bob.ask(id, { clientId: bobTab, renew: true }));
        expect(polled.waiter.id).toBe(asked.waiter.id);
      });

      it('hands the page over: the waiter’s next ask holds it, the old holder is lost (handed-over)', async (...context) => {
        const methods = line(context);
        if (!methods) return;
        const { id, clientId, answer, bobTab, asked } = await bobWaits(methods);
        const handed = await methods.alice.answer(id, {
          token: answer.token,
          waiterId: asked.waiter.id,
          answer: 'hand-over',
        });
        expect(handed.status).toBe('handed-over');
        if (handed.status !== 'handed-over') return;
        carriesNow(handed);
        expect(handed.lock.holder.id).toBe(asked.waiter.user.id);
        expect(handed.lock.fence).toBeGreaterThan(answer.lock.fence);
        const bobHolds = held(await methods.bob.ask(id, { clientId: bobTab, renew: true }));
        expect(bobHolds.lock.fence).toBe(handed.lock.fence);
        const late = lost(await alice().acquire(id, { clientId, token: answer.token }));
        expect(late.reason).toBe('handed-over');
      });

      it('declines: the waiter keeps its place and learns the holder is still editing', async (...context) => {
        const methods = line(context);
        if (!methods) return;
        const { id, answer, bobTab, asked } = await bobWaits(methods);
        const declined = await methods.alice.answer(id, {
          token: answer.token,
          waiterId: asked.waiter.id,
          answer: 'decline',
        });
        expect(declined.status).toBe('declined');
        if (declined.status !== 'declined') return;
        expect(declined.waiters).toEqual([{ ...asked.waiter, request: 'declined' }]);
        const polled = queued(await methods.bob.ask(id, { clientId: bobTab, renew: true }));
        expect(polled.place).toBe(1);
        expect(polled.waiter.request).toBe('declined');
      });

      it('passes a released page to the first in line, and nobody else gets in', async (...context) => {
        const methods = line(context);
        if (!methods) return;
        const { id, answer, bobTab } = await bobWaits(methods);
        expect(await alice().release(id, answer.token)).toBe('released');
        const blocked = locked(await aliceElsewhere().acquire(id, { clientId: tab() }));
        expect(blocked.lock.holder.id).not.toBe(answer.lock.holder.id);
        const bobHolds = held(await methods.bob.ask(id, { clientId: bobTab, renew: true }));
        expect(bobHolds.lock.fence).toBe(blocked.lock.fence);
      });

      it('leaves the line, and the holder no longer sees the waiter', async (...context) => {
        const methods = line(context);
        if (!methods) return;
        const { id, clientId, answer, bobTab } = await bobWaits(methods);
        await methods.bob.leave(id, bobTab);
        const refreshed = held(await alice().acquire(id, { clientId, token: answer.token }));
        expect(refreshed.waiters === undefined || refreshed.waiters.length === 0).toBe(true);
      });

      it('rejects an ask for a free page (not-locked: acquire instead)', async (...context) => {
        const methods = line(context);
        if (!methods) return;
        const error = await rejectionOf(methods.bob.ask(uniqueId('free'), { clientId: tab() }));
        expect(codeOf(error)).toBe('not-locked');
      });

      it('rejects an answer from anyone but the holder (not-holder), and changes nothing', async (...context) => {
        const methods = line(context);
        if (!methods) return;
        const { id, clientId, answer, asked } = await bobWaits(methods);
        const error = await rejectionOf(
          methods.bob.answer(id, {
            token: answer.token,
            waiterId: asked.waiter.id,
            answer: 'hand-over',
          }),
        );
        expect(codeOf(error)).toBe('not-holder');
        const refreshed = held(await alice().acquire(id, { clientId, token: answer.token }));
        expect(refreshed.waiters).toEqual([asked.waiter]);
      });
    });
  });
}
