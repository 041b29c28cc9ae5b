/**
 * One process of a race: hammers a lock store through a real lock service with random acquire,
 * refresh, release, takeover and abandon calls on a few resources, and asks to edit: joins the
 * line, keeps or abandons its place, leaves, hands over and declines. It writes what was granted
 * to a log (see race-log.ts) for the auditor.
 *
 *   node --import tsx test/race/race-worker.ts --kind sqlite --connection /tmp/locks.db \
 *     --worker 3 --operations 600 --resources 3 --ttl 40 --seed 7 --start-at <epoch ms> \
 *     --clock-offset 0 --log /tmp/race-3.jsonl
 *
 * `--clock-offset` skews this worker's service clock (ms, may be negative): as if it ran on a
 * server whose clock is off. Only for stores that decide by their own clock.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { HeldResult } from '../../server-adapter/service/lock-service';
import { createLockService } from '../../server-adapter/service/lock-service';
import type { LockUser, Waiter } from '../../src/protocol/protocol';
import type { RaceLogEntry } from './race-log';
import { raceStores } from './race-stores';

const { values } = parseArgs({
  options: {
    kind: { type: 'string' },
    connection: { type: 'string' },
    worker: { type: 'string' },
    operations: { type: 'string' },
    resources: { type: 'string', default: '3' },
    ttl: { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
    'start-at': { type: 'string', default: '0' },
    'clock-offset': { type: 'string', default: '0' },
    log: { type: 'string' },
  },
});

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') {
    throw new Error(`[page-lock] [race] Missing option --${name}`);
  }
  return value;
}

/** A small seeded generator (mulberry32), so a failing run can be replayed with its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const kind = required('kind');
  const openStore = raceStores[kind];
  if (!openStore) throw new Error(`[page-lock] [race] Unknown store kind "${kind}"`);
  const worker = Number(required('worker'));
  const operations = Number(required('operations'));
  const ttl = Number(values.ttl);
  const random = seededRandom(Number(values.seed) * 1_000 + worker);
  const resourceIds = Array.from({ length: Number(values.resources) }, (_, i) => `race:page/${i}`);
  // Nobody takes this one over: on a fast machine takeovers would always beat a crashed tab's
  // lease to it, and the race must also see leases change hands by expiry.
  const expiryOnlyResource = resourceIds[0];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  const { store, clock } = await openStore(required('connection'));
  const offset = Number(values['clock-offset']);
  if (!Number.isFinite(offset) || (offset !== 0 && clock !== 'store')) {
    throw new Error(
      `[page-lock] [race] --clock-offset needs a store that decides by its own clock ("${kind}" does not)`,
    );
  }
  // Everyone may take over (the policy is the service's, not the store's): takeovers race too.
  // A page passed to the first waiter is kept for it one TTL: as long as a lease, so a waiter
  // that departed holds a resource up no longer than a crashed holder does.
  const service = createLockService({
    store,
    ttl,
    queueGrace: ttl,
    canTakeOver: () => true,
    now: () => Date.now() + offset,
  });
  /**
   * The times the auditor compares, on one clock for all workers. A store with its own clock
   * reports the time it decided each call at (`now`): its leases' times are on that clock, and
   * one resource's calls are decided one after the other, so decision times order them. Else
   * every worker shares the machine's clock: `before` is read before the call (the call was
   * decided after it), `after` once it returned (it was committed by then).
   */
  const stamp = {
    before: (): number => service.now(),
    decided: (at: { now: number }, before: number): number => (clock === 'store' ? at.now : before),
    returned: (at: { now: number }): number => (clock === 'store' ? at.now : service.now()),
  };
  // Users are shared between workers, so same-user takeovers and "another tab" refusals happen.
  const user: LockUser = { id: `user-${worker % 3}`, name: `Worker ${worker}` };
  const tabs = [`w${worker}-tab-a`, `w${worker}-tab-b`];
  /**
   * A tab that abandons its place in line never uses that tab id on that resource again (as a
   * crashed tab never comes back): a grant to it would show as a grant to a departed waiter.
   */
  const generations = new Map<string, number>();
  const clientIdOf = (tab: string, resourceId: string): string => {
    const generation = generations.get(`${tab} ${resourceId}`) ?? 0;
    return generation === 0 ? tab : `${tab}-g${generation}`;
  };
  /** What this worker believes each of its tabs holds: `${clientId} ${resourceId}` → lease. */
  const held = new Map<string, { token: string; fence: number }>();
  /** The fence each tab last held, to tell a page passed to it from its own grant reclaimed. */
  const heldFence = new Map<string, number>();
  /** Each tab's place in line, from its last `queued` answer. */
  const places = new Map<string, { waiterId: string; placeExpiresAt: number }>();
  /** The line the holder last saw, per held key. */
  const waitersSeen = new Map<string, Waiter[]>();
  const lastSeenFence = new Map<string, number>();
  const log: RaceLogEntry[] = [];

  /** A `held` answer from an acquire or an ask without token: a grant, a reclaim, or a page passed to this tab. */
  const logHeldWithoutToken = (
    result: HeldResult,
    resourceId: string,
    clientId: string,
    key: string,
    waiterId: string | undefined,
  ): void => {
    held.set(key, { token: result.token, fence: result.lock.fence });
    lastSeenFence.set(resourceId, result.lock.fence);
    waitersSeen.set(key, result.waiters ?? []);
    const passed = result.via === 'reclaimed' && heldFence.get(key) !== result.lock.fence;
    heldFence.set(key, result.lock.fence);
    if (result.via === 'granted' || passed) {
      log.push({
        type: 'grant',
        worker,
        resourceId,
        token: result.token,
        fence: result.lock.fence,
        acquiredAt: result.lock.acquiredAt,
        expiresAt: result.lock.expiresAt,
        returnedAt: stamp.returned(result),
        via: passed ? 'passed' : 'granted',
        clientId,
        ...(waiterId ? { waiterId } : {}),
      });
    } else {
      log.push({
        type: 'refresh',
        worker,
        resourceId,
        token: result.token,
        fence: result.lock.fence,
        at: result.lock.expiresAt - ttl,
        expiresAt: result.lock.expiresAt,
        via: result.via as 'refreshed' | 'reclaimed' | 'resumed',
      });
    }
  };

  /** Joins the line, or keeps the place (`renew`): the answer is a place, the page, or neither. */
  const ask = async (resourceId: string, clientId: string, key: string, renew: boolean) => {
    const result = await service.ask(resourceId, user, { clientId, renew });
    if (result.status === 'queued') {
      places.set(key, { waiterId: result.waiter.id, placeExpiresAt: result.now + ttl });
      log.push({
        type: 'queued',
        worker,
        resourceId,
        clientId,
        waiterId: result.waiter.id,
        askedAt: result.waiter.askedAt,
        place: result.place,
        at: result.now,
      });
    } else if (result.status === 'held') {
      logHeldWithoutToken(result, resourceId, clientId, key, places.get(key)?.waiterId);
      places.delete(key);
    } else {
      places.delete(key);
      log.push({
        type: 'refused',
        worker,
        resourceId,
        action: 'ask',
        at: result.now,
        outcome: result.status,
      });
    }
  };

  /** The holder answers one waiter it saw: hands the page over, or declines. */
  const answerOne = async (resourceId: string, key: string): Promise<void> => {
    const lease = held.get(key);
    const waiters = waitersSeen.get(key) ?? [];
    if (!lease || waiters.length === 0) return;
    const to = pick(waiters);
    const answer = random() < 0.7 ? 'hand-over' : 'decline';
    const before = stamp.before();
    const result = await service.answer(resourceId, user, {
      token: lease.token,
      waiterId: to.id,
      answer,
    });
    if (result.status === 'handed-over') {
      held.delete(key);
      // Handing over ends this lease, as a release does; the next grant must be the waiter's.
      log.push({
        type: 'release',
        worker,
        resourceId,
        token: lease.token,
        fence: lease.fence,
        at: stamp.decided(result, before),
        outcome: 'released',
      });
      log.push({
        type: 'handed',
        worker,
        resourceId,
        waiterId: to.id,
        fence: result.lock.fence,
        at: result.now,
      });
    } else if (result.status === 'declined') {
      waitersSeen.set(key, result.waiters);
    } else {
      waitersSeen.delete(key);
      log.push({
        type: 'refused',
        worker,
        resourceId,
        action: 'answer',
        at: result.now,
        outcome: result.status,
      });
    }
  };

  /** Records the grants the line made (token ''), which their tabs may never take. */
  const look = async (): Promise<void> => {
    for (const resourceId of resourceIds) {
      const lock = await store.get(resourceId, { now: service.now() });
      if (lock && lock.token === '') {
        log.push({
          type: 'seen',
          worker,
          resourceId,
          clientId: lock.clientId,
          fence: lock.fence,
          acquiredAt: lock.acquiredAt,
        });
      }
    }
  };

  const startAt = Number(values['start-at']);
  if (startAt > Date.now()) await sleep(startAt - Date.now());

  for (let op = 0; op < operations; op++) {
    const resourceId = pick(resourceIds);
    const tab = pick(tabs);
    const clientId = clientIdOf(tab, resourceId);
    const key = `${clientId} ${resourceId}`;
    const lease = held.get(key);
    const place = places.get(key);
    const roll = random();

    if (op % 25 === 0) await look();
    // A holder that sees someone waiting answers now and then, while its lease is surely live.
    const answerSoon = async () => {
      if (random() < 0.3) await answerOne(resourceId, key);
    };

    if (place && !lease) {
      if (roll < 0.7) {
        await ask(resourceId, clientId, key, true);
      } else if (roll < 0.8) {
        await service.leave(resourceId, user, clientId);
        places.delete(key);
      } else if (roll < 0.9) {
        // The tab crashed or slept: its place must lapse, and it must never get the page.
        places.delete(key);
        log.push({ type: 'depart', worker, resourceId, clientId, ...place });
        generations.set(`${tab} ${resourceId}`, (generations.get(`${tab} ${resourceId}`) ?? 0) + 1);
      } else {
        await sleep(1);
      }
    } else if (lease && roll < 0.5) {
      const result = await service.acquire(resourceId, user, { clientId, token: lease.token });
      if (result.status === 'held') {
        waitersSeen.set(key, result.waiters ?? []);
        log.push({
          type: 'refresh',
          worker,
          resourceId,
          token: result.token,
          fence: result.lock.fence,
          at: result.lock.expiresAt - ttl,
          expiresAt: result.lock.expiresAt,
          via: result.via as 'refreshed' | 'reclaimed' | 'resumed',
        });
      } else {
        held.delete(key);
        const outcome = result.status === 'lost' ? `lost:${result.reason}` : result.status;
        log.push({
          type: 'refused',
          worker,
          resourceId,
          action: 'refresh',
          at: stamp.returned(result),
          outcome,
        });
      }
    } else if (lease && roll < 0.75) {
      const before = stamp.before();
      const result = await service.release(resourceId, lease.token);
      held.delete(key);
      log.push({
        type: 'release',
        worker,
        resourceId,
        token: lease.token,
        fence: lease.fence,
        at: stamp.decided(result, before),
        outcome: result.status,
      });
    } else if (lease && roll < 0.85) {
      // A crashed tab: forget the token, so the lease has to expire (or be reclaimed by reload).
      held.delete(key);
    } else if (!lease && roll < 0.25 && resourceId !== expiryOnlyResource) {
      const expectedFence = lastSeenFence.get(resourceId) ?? 0;
      const result = await service.takeOver(resourceId, user, { clientId, expectedFence });
      if (result.status === 'held') {
        held.set(key, { token: result.token, fence: result.lock.fence });
        heldFence.set(key, result.lock.fence);
        waitersSeen.set(key, result.waiters ?? []);
        lastSeenFence.set(resourceId, result.lock.fence);
        log.push({
          type: 'grant',
          worker,
          resourceId,
          token: result.token,
          fence: result.lock.fence,
          acquiredAt: result.lock.acquiredAt,
          expiresAt: result.lock.expiresAt,
          returnedAt: stamp.returned(result),
          via: 'taken-over',
          clientId,
        });
      } else {
        if (result.lock) lastSeenFence.set(resourceId, result.lock.fence);
        log.push({
          type: 'refused',
          worker,
          resourceId,
          action: 'takeover',
          at: stamp.returned(result),
          outcome: result.status,
        });
      }
    } else if (!lease) {
      const result = await service.acquire(resourceId, user, { clientId });
      if (result.status === 'held') {
        logHeldWithoutToken(result, resourceId, clientId, key, undefined);
      } else {
        if (result.lock) lastSeenFence.set(resourceId, result.lock.fence);
        const outcome = result.status === 'lost' ? `lost:${result.reason}` : result.status;
        log.push({
          type: 'refused',
          worker,
          resourceId,
          action: 'acquire',
          at: stamp.returned(result),
          outcome,
        });
        // A blocked tab asks to edit now and then, and waits in line; not on the expiry-only page: there leases must also lapse with nobody waiting.
        const mayAsk = store.ask !== undefined && resourceId !== expiryOnlyResource;
        if (result.status === 'locked' && !result.isSelf && mayAsk && random() < 0.5) {
          await ask(resourceId, clientId, key, false);
        }
      }
    } else {
      // A slow tab: now and then a pause long enough for leases to lapse.
      await sleep(roll < 0.97 ? 1 : ttl);
    }
    if (held.has(key)) await answerSoon();
  }

  await store.close?.();
  writeFileSync(required('log'), `${log.map((entry) => JSON.stringify(entry)).join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
