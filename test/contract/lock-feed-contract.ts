import type { LockChange, LockFeed } from '../../server-adapter/live/lock-feed';
import type { Lock } from '../../src/protocol/protocol';
import type { ContractTestApi, ContractTestContext } from './store-contract';

/**
 * Two feeds as the contract suite drives them: A and B stand for two server instances that share
 * one backend (two connections, two pools). An in-process feed, which serves one process only,
 * is given twice: `feeds: [feed, feed]`.
 *
 * Each call must give feeds on a channel of their own (nothing else publishing on it), so tests
 * running side by side do not see each other's changes.
 *
 * @example
 * ```ts
 * runLockFeedContract('redis feed', () => {
 *   const channel = `page-lock-test:${crypto.randomUUID()}`;
 *   const [a, b] = [new Redis(url), new Redis(url)];
 *   return {
 *     feeds: [createRedisLockFeed({ client: a, channel }), createRedisLockFeed({ client: b, channel })],
 *     sendRaw: async (message) => void (await a.publish(channel, message)),
 *     countSubscribed: async () => Number((await a.pubsub('NUMSUB', channel))[1]),
 *     cleanup: async () => void (await Promise.all([a.quit(), b.quit()])),
 *   };
 * }, { describe, it, expect, beforeEach, afterEach });
 * ```
 */
export interface FeedsUnderTest {
  /** Instance A's feed and instance B's. The suite closes both after each test. */
  feeds: readonly [LockFeed, LockFeed];
  /**
   * Sends text on the feeds' transport as any other program could (`PUBLISH`, `pg_notify`), for
   * the check that what is not a change reaches no listener. Omit it for an in-process feed.
   */
  sendRaw?(message: string): Promise<void>;
  /**
   * How many connections the backend holds subscribed to the feeds' channel, read from the
   * backend itself (`PUBSUB NUMSUB`, `pg_stat_activity`), for the check that `close()` frees
   * what the feeds opened. Omit it for an in-process feed.
   */
  countSubscribed?(): Promise<number>;
  /** Runs after each test, once both feeds were closed: end the clients. */
  cleanup?(): Promise<void>;
}

/** How long a change may take to arrive before the suite calls it lost (generous: slow CI). */
const DELIVERY_TIMEOUT_MS = 5_000;
const LATENCY_SAMPLES = 200;

/**
 * The contract every {@link LockFeed} must keep: a change published through one instance reaches
 * the subscribers of every instance, itself included, intact and in its publisher's order;
 * unsubscribing and closing stop delivery and free what was held; a listener that throws, or a
 * message on the transport that is not a change, harms no one.
 *
 * It also measures how long a change takes from A's `publish` to B's listener and logs the
 * p50/p99 (`console.log`); it asserts delivery, never a speed.
 *
 * @param name - How the feed is named in the test report.
 * @param makeFeeds - Makes fresh {@link FeedsUnderTest} before each test.
 * @param api - The test framework's `describe`, `it`, `expect`, `beforeEach`, `afterEach`.
 */
export function runLockFeedContract(
  name: string,
  makeFeeds: () => FeedsUnderTest | Promise<FeedsUnderTest>,
  api: ContractTestApi,
): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
  const runId = Math.random().toString(36).slice(2, 10);
  let sequence = 0;
  let subject: FeedsUnderTest;
  let a: LockFeed;
  let b: LockFeed;

  /** A resource id no other test uses. */
  const uniqueId = (label: string): string => `feed-${runId}-${++sequence}:${label}`;

  /** Subscribes a recorder of the changes of resources whose id starts with `prefix`. */
  const record = (feed: LockFeed, prefix: string) => {
    const changes: LockChange[] = [];
    const unsubscribe = feed.subscribe((change) => {
      if (change.resourceId.startsWith(prefix)) changes.push(change);
    });
    return { changes, unsubscribe };
  };

  /**
   * Subscribing may take a round trip to the backend (SUBSCRIBE, LISTEN) that the interface does
   * not wait for: probe changes go from A until both A and B have heard one, so each test starts
   * from subscribed feeds, as a server does once it has served its first stream.
   */
  const subscribedBoth = async (): Promise<void> => {
    const prefix = uniqueId('probe');
    const heardByA = record(a, prefix);
    const heardByB = record(b, prefix);
    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    try {
      while (heardByA.changes.length === 0 || heardByB.changes.length === 0) {
        if (Date.now() > deadline) {
          throw new Error(`${name}: a change published on A never reached A and B`);
        }
        await a.publish(changeOf(`${prefix}:${++sequence}`, 'released', null));
        await pause(20);
      }
    } finally {
      heardByA.unsubscribe();
      heardByB.unsubscribe();
    }
  };

  describe(`${name}: lock feed contract`, () => {
    beforeEach(async () => {
      subject = await makeFeeds();
      [a, b] = subject.feeds;
    });

    afterEach(async () => {
      await Promise.allSettled([a.close(), b.close()]);
      await subject.cleanup?.();
    });

    it('a change published on A reaches the subscribers of A and of B, intact', async () => {
      await subscribedBoth();
      const id = uniqueId('page');
      const onA = record(a, id);
      const onB = record(b, id);
      const sent: LockChange[] = [
        changeOf(
          id,
          'acquired',
          lockOf(id, 1, {
            id: 'alice',
            name: 'Ålice "A" 名前 😀',
            avatarUrl: 'https://example.test/a.png?x=1&y=2',
          }),
        ),
        changeOf(id, 'taken-over', lockOf(id, 2, { id: 'bob', name: 'Bob' })),
        changeOf(id, 'released', null),
        changeOf(id, 'force-released', null),
      ];
      for (const change of sent) await a.publish(change);
      await until(() => onA.changes.length >= sent.length && onB.changes.length >= sent.length);
      expect(onA.changes).toEqual(sent);
      expect(onB.changes).toEqual(sent);

      const back = changeOf(id, 'acquired', lockOf(id, 3, { id: 'carol', name: 'Carol' }));
      await b.publish(back);
      await until(() => onA.changes.length > sent.length && onB.changes.length > sent.length);
      expect(onA.changes.slice(sent.length)).toEqual([back]);
      expect(onB.changes.slice(sent.length)).toEqual([back]);
    });

    it('carries a large change intact (a holder whose avatar is a 20 KB data: URL)', async () => {
      await subscribedBoth();
      const id = uniqueId('page');
      const onB = record(b, id);
      const avatarUrl = `data:image/png;base64,${'iVBORw0KGgo€'.repeat(1_700)}`;
      const large = changeOf(
        id,
        'acquired',
        lockOf(id, 1, { id: 'alice', name: 'Alice', avatarUrl }),
      );
      const after = changeOf(id, 'released', null);
      await a.publish(large);
      await a.publish(after);
      await until(() => onB.changes.length >= 2);
      expect(onB.changes).toEqual([large, after]);
    });

    it("keeps the order of one publisher's changes", async () => {
      await subscribedBoth();
      const id = uniqueId('page');
      const onA = record(a, id);
      const onB = record(b, id);
      const sent = Array.from({ length: 100 }, (_, i) =>
        changeOf(
          id,
          i % 2 ? 'released' : 'acquired',
          i % 2 ? null : lockOf(id, i + 1, { id: 'alice', name: 'Alice' }),
        ),
      );
      // All at once, as a busy server publishes: none waits for the one before.
      await Promise.all(sent.map((change) => a.publish(change)));
      await until(() => onA.changes.length >= sent.length && onB.changes.length >= sent.length);
      expect(onA.changes).toEqual(sent);
      expect(onB.changes).toEqual(sent);
    });

    it('stops telling a listener once it unsubscribed', async () => {
      await subscribedBoth();
      const id = uniqueId('page');
      const gone = record(b, id);
      const staying = record(b, id);
      gone.unsubscribe();
      gone.unsubscribe(); // twice is harmless
      const first = changeOf(id, 'released', null);
      const marker = changeOf(id, 'force-released', null);
      await a.publish(first);
      await a.publish(marker);
      await until(() => staying.changes.length >= 2);
      expect(staying.changes).toEqual([first, marker]);
      expect(gone.changes).toEqual([]);
      staying.unsubscribe();
    });

    it('a listener that throws does not stop the others, nor its own next changes', async () => {
      await subscribedBoth();
      const id = uniqueId('page');
      let thrown = 0;
      b.subscribe((change) => {
        if (!change.resourceId.startsWith(id)) return;
        thrown++;
        throw new Error('a broken stream');
      });
      const onB = record(b, id);
      const onA = record(a, id);
      const sent = [changeOf(id, 'released', null), changeOf(id, 'force-released', null)];
      for (const change of sent) await a.publish(change);
      await until(() => onB.changes.length >= 2 && onA.changes.length >= 2);
      expect(onB.changes).toEqual(sent);
      expect(onA.changes).toEqual(sent);
      expect(thrown).toBe(2);
    });

    it('passes on no message that is not a change', async (...context: [ContractTestContext?]) => {
      if (!subject.sendRaw) {
        context[0]?.skip?.('an in-process feed has no transport to send raw messages on');
        return;
      }
      await subscribedBoth();
      const id = uniqueId('page');
      const seen: unknown[] = [];
      b.subscribe((change) => seen.push(change));
      const lock = lockOf(id, 1, { id: 'alice', name: 'Alice' });
      const malformed = [
        'not json',
        '',
        'null',
        '[]',
        '"text"',
        '{',
        JSON.stringify({ resourceId: id }),
        JSON.stringify({ resourceId: id, change: 'exploded', lock: null, at: 1 }),
        JSON.stringify({ resourceId: id, change: 'released', lock: null }),
        JSON.stringify({ resourceId: id, change: 'released', lock: null, at: '1' }),
        JSON.stringify({
          resourceId: id,
          change: 'acquired',
          lock: { ...lock, fence: '1' },
          at: 1,
        }),
        JSON.stringify({
          resourceId: id,
          change: 'acquired',
          lock: { ...lock, holder: null },
          at: 1,
        }),
        JSON.stringify({ resourceId: id, change: 'acquired', lock: 'held', at: 1 }),
        `#0123456789abcdef 0/2 ${JSON.stringify(changeOf(id, 'released', null)).slice(0, 10)}`,
      ];
      for (const message of malformed) await subject.sendRaw(message);
      const valid = changeOf(id, 'released', null);
      await a.publish(valid);
      await until(() => seen.length >= 1);
      expect(seen).toEqual([valid]);
    });

    it('close() frees what the feed opened, and a closed feed tells nobody', async () => {
      const before = await subject.countSubscribed?.();
      const id = uniqueId('page');
      const onA = record(a, id);
      const onB = record(b, id);
      await subscribedBoth();
      if (before !== undefined) {
        expect(await subject.countSubscribed?.()).toBeGreaterThan(before);
      }
      await b.close();
      await b.close(); // twice is harmless
      if (a !== b) {
        const marker = changeOf(id, 'released', null);
        await a.publish(marker);
        await until(() => onA.changes.length >= 1);
        expect(onA.changes).toEqual([marker]);
        // A received it, so it was on its way to B too: B, closed, passed it on to nobody.
        await pause(50);
        expect(onB.changes).toEqual([]);
      }
      await a.close();
      if (before !== undefined) {
        await until(async () => (await subject.countSubscribed?.()) === before);
        expect(await subject.countSubscribed?.()).toBe(before);
      }
    });

    it('leaves no listener behind after 10,000 subscribe/unsubscribe cycles', async () => {
      await subscribedBoth();
      const id = uniqueId('page');
      let calledAfterUnsubscribe = 0;
      for (let i = 0; i < 10_000; i++) {
        const unsubscribe = (i % 2 ? a : b).subscribe(() => {
          calledAfterUnsubscribe++;
        });
        unsubscribe();
      }
      const onB = record(b, id);
      const marker = changeOf(id, 'released', null);
      await a.publish(marker);
      await until(() => onB.changes.length >= 1);
      expect(onB.changes).toEqual([marker]);
      expect(calledAfterUnsubscribe).toBe(0);
    });

    it('delivers from A to B one change after another, and logs the latency', async () => {
      await subscribedBoth();
      const id = uniqueId('page');
      const sentAt = new Map<string, number>();
      const latencies: number[] = [];
      const received: string[] = [];
      b.subscribe((change) => {
        if (!change.resourceId.startsWith(id)) return;
        received.push(change.resourceId);
        const started = sentAt.get(change.resourceId);
        if (started !== undefined) latencies.push(performance.now() - started);
      });
      const sent: string[] = [];
      for (let i = 0; i < LATENCY_SAMPLES; i++) {
        const resourceId = `${id}:${i}`;
        sent.push(resourceId);
        sentAt.set(resourceId, performance.now());
        await a.publish(changeOf(resourceId, 'released', null));
        await until(() => received.length > i);
      }
      expect(received).toEqual(sent);
      expect(latencies).toHaveLength(LATENCY_SAMPLES);
      const sorted = [...latencies].sort((x, y) => x - y);
      const at = (q: number): string =>
        (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number).toFixed(2);
      console.log(
        `[page-lock] ${name}: A → B latency over ${LATENCY_SAMPLES} changes: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`,
      );
    });
  });
}

function changeOf(resourceId: string, change: LockChange['change'], lock: Lock | null): LockChange {
  return { resourceId, change, lock, at: 1_700_000_000_000 + resourceId.length };
}

function lockOf(resourceId: string, fence: number, holder: Lock['holder']): Lock {
  const since = 1_700_000_000_000 + fence;
  return { resourceId, holder, since, acquiredAt: since, expiresAt: since + 90_000, fence };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `condition` holds, checking every few ms; fails after the delivery timeout. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('a change did not arrive in time');
    await pause(2);
  }
}
