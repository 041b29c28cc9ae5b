/**
 * One process of a race: hammers a lock store through a real lock service with random acquire,
 * refresh, release, takeover and abandon calls on a few resources, and writes what was granted
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
import { createLockService } from '../../server-adapter/service/lock-service';
import type { LockUser } from '../../src/protocol/protocol';
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
  const service = createLockService({
    store,
    ttl,
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
  const clientIds = [`w${worker}-tab-a`, `w${worker}-tab-b`];
  /** What this worker believes each of its tabs holds: `${clientId} ${resourceId}` → lease. */
  const held = new Map<string, { token: string; fence: number }>();
  const lastSeenFence = new Map<string, number>();
  const log: RaceLogEntry[] = [];

  const startAt = Number(values['start-at']);
  if (startAt > Date.now()) await sleep(startAt - Date.now());

  for (let op = 0; op < operations; op++) {
    const resourceId = pick(resourceIds);
    const clientId = pick(clientIds);
    const key = `${clientId} ${resourceId}`;
    const lease = held.get(key);
    const roll = random();

    if (lease && roll < 0.5) {
      const result = await service.acquire(resourceId, user, { clientId, token: lease.token });
      if (result.status === 'held') {
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
        held.set(key, { token: result.token, fence: result.lock.fence });
        lastSeenFence.set(resourceId, result.lock.fence);
        if (result.via === 'granted') {
          log.push({
            type: 'grant',
            worker,
            resourceId,
            token: result.token,
            fence: result.lock.fence,
            acquiredAt: result.lock.acquiredAt,
            expiresAt: result.lock.expiresAt,
            returnedAt: stamp.returned(result),
            via: 'granted',
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
      }
    } else {
      // A slow tab: now and then a pause long enough for leases to lapse.
      await sleep(roll < 0.97 ? 1 : ttl);
    }
  }

  await store.close?.();
  writeFileSync(required('log'), `${log.map((entry) => JSON.stringify(entry)).join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
