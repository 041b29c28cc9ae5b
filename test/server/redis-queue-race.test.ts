import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisLockStore } from '../../server-adapter/redis';
import type { LockStore, StoredLock, StoredWaiter } from '../../server-adapter/store/lock-store';
import type { LockUser } from '../../src/protocol/protocol';

/**
 * The line under a race: tabs on several Redis connections ask, renew, leave, depart (stop
 * renewing), acquire, refresh, release, hand over and decline on two pages at once, with leases,
 * places and the grace short enough that everything lapses all the time. The store decides by
 * Redis' own clock, so every time in the log is on one clock (the `now` each script replied).
 * The audit then checks, from what the tabs were answered:
 * - no two live grants: a grant ends (released, handed over, or its last `expiresAt`) no later
 *   than the next grant starts, and nothing succeeds with a fence after a later one was granted;
 * - the order of the line: two places are never seen in both orders, and in order of asking;
 * - no grant to a waiter that left or departed;
 * - a hand-over goes to exactly the waiter named, and that tab then takes that very grant.
 */

const url = process.env.PAGE_LOCK_REDIS_URL;
const TTL = 120;
const PLACE_TTL = 120;
const GRACE = 100;
const RACE_MS = 4_000;
const CONNECTIONS = 5;
const TABS_PER_PAGE = 5;
const PAGES = ['race:page/a', 'race:page/b'];

type GoneHow = 'left' | 'unqueued' | 'departed';

type Entry =
  /** A lock as some answer showed it. */
  | { kind: 'view'; resourceId: string; lock: StoredLock; at: number }
  /** A call that succeeded with the grant at `fence` (its token, or its tab by reclaiming). */
  | { kind: 'used'; resourceId: string; fence: number; at: number; what: string }
  /** The grant at `fence` was ended at `at` (released or handed over). */
  | { kind: 'ended'; resourceId: string; fence: number; at: number }
  /** A tab's place in line, as an ask answered it. */
  | { kind: 'queued'; resourceId: string; waiter: StoredWaiter; place: number; at: number }
  /**
   * The tab left (`left`: its place removed at `at`; `unqueued`: its leave found no place at
   * `at`, as when the page had just passed to it) or departed (its place lapses at `at`). Its
   * clientId is never used again.
   */
  | { kind: 'gone'; resourceId: string; clientId: string; at: number; how: GoneHow }
  /** A holder handed the page to `waiter`: the grant it got. */
  | { kind: 'handed'; resourceId: string; waiter: StoredWaiter; lock: StoredLock; at: number }
  /** A tab's own call without token (ask or acquire): what it got. */
  | {
      kind: 'tab';
      resourceId: string;
      clientId: string;
      outcome: string;
      fence?: number;
      at: number;
    };

if (!url) {
  it.skip('Redis line race: set PAGE_LOCK_REDIS_URL=redis://127.0.0.1:6379 to run it');
}

describe.skipIf(!url)('the line in Redis under tabs racing on several connections', () => {
  const prefix = `page-lock-line-race:${randomBytes(6).toString('hex')}:`;
  const clients = Array.from({ length: CONNECTIONS }, () => new Redis(url ?? ''));

  afterAll(async () => {
    const admin = clients[0] as Redis;
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await Promise.all(clients.map((client) => client.quit()));
  });

  it('keeps one live grant, the order of the line, no grant to a departed waiter, hand-overs to the asker', async () => {
    // One store per connection, by Redis' clock (the default): the service's now is ignored.
    const stores = clients.map((client) =>
      createRedisLockStore({ client, prefix, warnIfVolatile: false }),
    );
    const log: Entry[] = [];
    const deadline = Date.now() + RACE_MS;
    const tabs = PAGES.flatMap((resourceId, page) =>
      Array.from({ length: TABS_PER_PAGE }, (_, i) =>
        runTab({
          resourceId,
          user: { id: `user-${page}-${i}`, name: `User ${i}` },
          store: stores[(page * TABS_PER_PAGE + i) % CONNECTIONS] as LockStore,
          log,
          deadline,
          seed: page * 100 + i + 1,
        }),
      ),
    );
    await Promise.all(tabs);

    const audit = auditLine(log);
    console.log('[redis line race]', JSON.stringify(audit.counts));
    expect(audit.problems.slice(0, 10)).toEqual([]);
    // The race reached what it claims to check.
    expect(audit.counts.passed).toBeGreaterThan(10);
    expect(audit.counts.handedOver).toBeGreaterThan(5);
    expect(audit.counts.takenByAsker).toBeGreaterThan(3);
    expect(audit.counts.departed).toBeGreaterThan(3);
    expect(audit.counts.left).toBeGreaterThan(3);
    expect(audit.counts.lapsedAndPassed).toBeGreaterThan(0);
    expect(audit.counts.longestLine).toBeGreaterThanOrEqual(3);
  }, 60_000);
});

interface TabOptions {
  resourceId: string;
  user: LockUser;
  store: LockStore;
  log: Entry[];
  deadline: number;
  seed: number;
}

/** One tab's life: it holds, waits or looks, and chooses its next call at random. */
async function runTab({ resourceId, user, store, log, deadline, seed }: TabOptions): Promise<void> {
  const { ask, answer, leave } = store;
  if (!ask || !answer || !leave) throw new Error('expected a store with the line');
  let state = seed >>> 0;
  const random = (below: number): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return Math.floor((state / 2 ** 32) * below);
  };
  let generation = 0;
  let clientId = `${user.id}-tab-0`;
  let calls = 0;
  // Set by the helpers below too: declared wide, so the loop does not narrow them to null.
  let held = null as { token: string; fence: number; queue: StoredWaiter[] } | null;
  let waiting = null as { expiresAt: number } | null;
  const view = (lock: StoredLock | null | undefined, at: number): void => {
    if (lock) log.push({ kind: 'view', resourceId, lock, at });
  };
  const used = (fence: number, at: number, what: string): void => {
    log.push({ kind: 'used', resourceId, fence, at, what });
  };
  /** A tab that left or departed comes back as a new tab (as a closed page would). */
  const gone = (how: GoneHow, at: number): void => {
    log.push({ kind: 'gone', resourceId, clientId, at, how });
    generation++;
    clientId = `${user.id}-tab-${generation}`;
    waiting = null;
  };
  const holds = (lock: StoredLock): void => {
    held = { token: lock.token, fence: lock.fence, queue: lock.queue ?? [] };
    waiting = null;
  };
  const askLine = (renew: boolean) =>
    ask.call(store, {
      resourceId,
      holder: user,
      clientId,
      waiterId: `${clientId}-place-${calls++}`,
      message: renew ? null : `from ${clientId}`,
      renew,
      ttl: PLACE_TTL,
      askTimeout: 1_000,
      newToken: `${clientId}-token-${calls++}`,
      maxQueue: 50,
      now: 0,
      queueGrace: GRACE,
    });
  const acquireFresh = () =>
    store.acquire({
      resourceId,
      holder: user,
      clientId,
      newToken: `${clientId}-token-${calls++}`,
      now: 0,
      ttl: TTL,
      queueGrace: GRACE,
    });

  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, random(25)));
    const roll = random(100);
    if (held) {
      const lease = held;
      if (roll < 55 || lease.queue.length === 0 || roll >= 92) {
        if (roll >= 92) await new Promise((resolve) => setTimeout(resolve, TTL * 1.5)); // away
        const result = await store.acquire({
          resourceId,
          holder: user,
          clientId,
          token: lease.token,
          newToken: 'unused',
          now: 0,
          ttl: TTL,
          queueGrace: GRACE,
        });
        if (result.outcome === 'refreshed' || result.outcome === 'resumed') {
          view(result.lock, result.now);
          used(result.lock.fence, result.now, result.outcome);
          lease.queue = result.lock.queue ?? [];
        } else {
          view(result.lock, result.now);
          held = null;
        }
      } else if (roll < 75) {
        // Most often the first waiter, sometimes any.
        const waiter = (
          random(3) === 0 ? lease.queue[random(lease.queue.length)] : lease.queue[0]
        ) as StoredWaiter;
        const handOver = roll < 70;
        const result = await answer.call(store, {
          resourceId,
          token: lease.token,
          waiterId: waiter.id,
          answer: handOver ? 'hand-over' : 'decline',
          now: 0,
          queueGrace: GRACE,
        });
        if (result.outcome === 'handed-over') {
          view(result.lock, result.now);
          used(result.replaced.fence, result.now, 'handed over');
          log.push({ kind: 'ended', resourceId, fence: result.replaced.fence, at: result.now });
          log.push({ kind: 'handed', resourceId, waiter, lock: result.lock, at: result.now });
          held = null;
        } else if (result.outcome === 'declined') {
          view(result.lock, result.now);
          used(result.lock.fence, result.now, 'declined');
          lease.queue = result.lock.queue ?? [];
        } else if (result.outcome === 'not-queued') {
          view(result.lock, result.now);
          lease.queue = result.lock.queue ?? [];
        } else {
          view(result.lock, result.now);
          held = null;
        }
      } else {
        const result = await store.release({
          resourceId,
          token: lease.token,
          now: 0,
          queueGrace: GRACE,
        });
        if (result.outcome === 'released') {
          used(result.lock.fence, result.now, 'released');
          log.push({ kind: 'ended', resourceId, fence: result.lock.fence, at: result.now });
          view(result.passedTo, result.now);
        }
        held = null;
      }
    } else if (waiting) {
      const place = waiting;
      if (roll < 6) {
        const result = await leave.call(store, { resourceId, clientId, now: 0, queueGrace: GRACE });
        if (result.outcome === 'left') view(result.lock, result.now);
        gone(result.outcome === 'left' ? 'left' : 'unqueued', result.now);
      } else if (roll < 12) {
        // The tab stops renewing (it crashed, or its laptop slept): its place lapses unrenewed.
        gone('departed', place.expiresAt);
      } else {
        await takeTurn(await askLine(roll >= 90));
      }
    } else if (roll < 40) {
      const result = await acquireFresh();
      view(result.lock, result.now);
      log.push({
        kind: 'tab',
        resourceId,
        clientId,
        outcome: result.outcome,
        fence: result.lock?.fence,
        at: result.now,
      });
      if (result.outcome === 'granted' || result.outcome === 'reclaimed') {
        used(result.lock.fence, result.now, result.outcome);
        holds(result.lock);
      }
    } else {
      await takeTurn(await askLine(false));
    }
  }

  /** What an ask answered: a place, the page (it reached the front or was handed it), or none. */
  async function takeTurn(result: Awaited<ReturnType<typeof askLine>>): Promise<void> {
    const lock = result.outcome === 'free' ? undefined : result.lock;
    view(lock, result.now);
    log.push({
      kind: 'tab',
      resourceId,
      clientId,
      outcome: result.outcome,
      fence: lock?.fence,
      at: result.now,
    });
    if (result.outcome === 'queued') {
      log.push({
        kind: 'queued',
        resourceId,
        waiter: result.waiter,
        place: result.place,
        at: result.now,
      });
      waiting = { expiresAt: result.waiter.expiresAt };
    } else if (result.outcome === 'reclaimed') {
      used(result.lock.fence, result.now, 'reclaimed by ask');
      holds(result.lock);
    } else {
      waiting = null; // free: acquire next; full: look again later
    }
  }
}

interface LineAudit {
  problems: string[];
  counts: {
    calls: number;
    grants: number;
    passed: number;
    lapsedAndPassed: number;
    handedOver: number;
    takenByAsker: number;
    departed: number;
    left: number;
    longestLine: number;
  };
}

function auditLine(log: readonly Entry[]): LineAudit {
  const problems: string[] = [];
  const counts = {
    calls: log.filter((e) => e.kind === 'tab' || e.kind === 'used').length,
    grants: 0,
    passed: 0,
    lapsedAndPassed: 0,
    handedOver: 0,
    takenByAsker: 0,
    departed: 0,
    left: 0,
    longestLine: 0,
  };
  for (const resourceId of PAGES) {
    const entries = log.filter((e) => e.resourceId === resourceId);

    // Each grant as every answer showed it: one holder, one start, its last known expiry.
    const grants = new Map<number, { lock: StoredLock; lastExpiresAt: number; endedAt?: number }>();
    for (const e of entries) {
      if (e.kind !== 'view') continue;
      const known = grants.get(e.lock.fence);
      if (!known) {
        grants.set(e.lock.fence, { lock: e.lock, lastExpiresAt: e.lock.expiresAt });
        continue;
      }
      if (known.lock.clientId !== e.lock.clientId || known.lock.acquiredAt !== e.lock.acquiredAt) {
        problems.push(
          `${resourceId}: fence ${e.lock.fence} shown as two grants (${known.lock.clientId}, ${e.lock.clientId})`,
        );
      }
      known.lastExpiresAt = Math.max(known.lastExpiresAt, e.lock.expiresAt);
    }
    for (const e of entries) {
      if (e.kind === 'ended') {
        const grant = grants.get(e.fence);
        if (grant) grant.endedAt = Math.min(grant.endedAt ?? e.at, e.at);
      }
    }
    const fences = [...grants.keys()].sort((a, b) => a - b);
    counts.grants += fences.length;

    // No two live grants: each ends no later than the next one starts...
    for (let i = 0; i + 1 < fences.length; i++) {
      const grant = grants.get(fences[i] as number) as NonNullable<ReturnType<typeof grants.get>>;
      const next = grants.get(fences[i + 1] as number) as NonNullable<
        ReturnType<typeof grants.get>
      >;
      const end = Math.min(grant.lastExpiresAt, grant.endedAt ?? Number.POSITIVE_INFINITY);
      if (end > next.lock.acquiredAt) {
        problems.push(
          `${resourceId}: fence ${fences[i]} (${grant.lock.clientId}) live until ${end}, fence ${fences[i + 1]} (${next.lock.clientId}) granted at ${next.lock.acquiredAt}`,
        );
      }
      if (next.lock.token === '' && grant.endedAt === undefined) counts.lapsedAndPassed++;
    }
    // ...and nothing succeeds with a grant after a later grant began.
    for (const e of entries) {
      if (e.kind !== 'used') continue;
      const later = fences.find((f) => f > e.fence && (grants.get(f)?.lock.acquiredAt ?? 0) < e.at);
      if (later !== undefined) {
        problems.push(
          `${resourceId}: fence ${e.fence} ${e.what} at ${e.at}, after fence ${later} was granted`,
        );
      }
    }

    // The order of the line: every view shows its places in order of asking, and no two places
    // are ever seen in both orders.
    const before = new Set<string>();
    for (const e of entries) {
      if (e.kind !== 'view' || !e.lock.queue) continue;
      const queue = e.lock.queue;
      counts.longestLine = Math.max(counts.longestLine, queue.length);
      queue.forEach((w, i) => {
        const previous = queue[i - 1];
        if (previous && previous.askedAt > w.askedAt) {
          problems.push(`${resourceId}: ${previous.id} asked after ${w.id} but is ahead of it`);
        }
        for (const later of queue.slice(i + 1)) {
          if (before.has(`${later.id} ${w.id}`)) {
            problems.push(`${resourceId}: ${w.id} and ${later.id} seen in both orders`);
          }
          before.add(`${w.id} ${later.id}`);
        }
      });
    }

    // No grant to a waiter that left or departed (its clientId is never used again after).
    const goneAt = new Map<string, { at: number; how: GoneHow }>();
    for (const e of entries) {
      if (e.kind !== 'gone') continue;
      goneAt.set(e.clientId, { at: e.at, how: e.how });
      if (e.how !== 'departed') counts.left++;
      else counts.departed++;
    }
    const asked = new Set(entries.flatMap((e) => (e.kind === 'queued' ? [e.waiter.clientId] : [])));
    for (const fence of fences) {
      const { lock } = grants.get(fence) as NonNullable<ReturnType<typeof grants.get>>;
      if (lock.token !== '') continue;
      counts.passed++;
      if (!asked.has(lock.clientId)) {
        problems.push(
          `${resourceId}: fence ${fence} passed to ${lock.clientId}, which never had a place`,
        );
      }
      const gone = goneAt.get(lock.clientId);
      // A place removed (or lapsed) at `at` is never granted at `at` or later; a leave that found
      // no place only says nothing was granted to it after.
      if (
        gone &&
        (gone.how === 'unqueued' ? lock.acquiredAt > gone.at : lock.acquiredAt >= gone.at)
      ) {
        problems.push(
          `${resourceId}: fence ${fence} passed at ${lock.acquiredAt} to ${lock.clientId}, which ${gone.how} at ${gone.at}`,
        );
      }
    }

    // A hand-over reaches exactly the asker, who then takes that very grant by its next ask.
    for (const e of entries) {
      if (e.kind !== 'handed') continue;
      counts.handedOver++;
      if (
        e.lock.clientId !== e.waiter.clientId ||
        e.lock.holder.id !== e.waiter.user.id ||
        e.lock.token !== ''
      ) {
        problems.push(
          `${resourceId}: hand-over to ${e.waiter.clientId} granted ${e.lock.clientId}`,
        );
      }
      // Its first own call decided from the hand-over on (a call in the same millisecond that
      // still shows an older grant was decided before it), within the grace.
      const next = entries.find(
        (t) =>
          t.kind === 'tab' &&
          t.clientId === e.waiter.clientId &&
          t.at >= e.at &&
          (t.fence ?? Number.POSITIVE_INFINITY) >= e.lock.fence,
      ) as Extract<Entry, { kind: 'tab' }> | undefined;
      if (next && next.at < e.lock.expiresAt) {
        if (next.outcome !== 'reclaimed' || next.fence !== e.lock.fence) {
          problems.push(
            `${resourceId}: ${e.waiter.clientId}, handed fence ${e.lock.fence} at ${e.at}, got ${next.outcome} (fence ${next.fence}) at ${next.at}`,
          );
        } else {
          counts.takenByAsker++;
        }
      }
    }
  }
  return { problems, counts };
}
