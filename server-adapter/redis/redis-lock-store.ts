import type { LockUser } from '../../src/protocol/protocol';
import {
  applyCheck,
  DEFAULT_QUEUE_GRACE,
  isLive,
  MAX_REMEMBERED_ENDINGS,
  type RememberedEnding,
  type ResourceRecord,
} from '../store/lock-rules';
import type {
  DecidedAt,
  LockEnding,
  LockStore,
  StoreAnswerResult,
  StoreAskResult,
  StoreCheckResult,
  StoredLock,
  StoreLeaveResult,
  StoreReleaseResult,
} from '../store/lock-store';
import {
  checkRedisPrefix,
  DEFAULT_REDIS_PREFIX,
  redisResourceKeys,
  redisStateKeyPattern,
  resourceIdOfStateKey,
} from './redis-keys';
import { defineRedisScript, type RedisLockClient } from './redis-lock-client';
import { decodeQueue, decodeWaiter } from './redis-queue';
import {
  ACQUIRE_SCRIPT,
  ANSWER_SCRIPT,
  ASK_SCRIPT,
  FORCE_RELEASE_SCRIPT,
  LEAVE_SCRIPT,
  READ_SCRIPT,
  REFRESH_SCRIPT,
  RELEASE_SCRIPT,
  TAKE_OVER_SCRIPT,
} from './redis-scripts';

/** One day: how long a resource's state outlives its lease before Redis may collect it. */
export const DEFAULT_REDIS_GC_MARGIN = 24 * 60 * 60 * 1000;

/**
 * Which clock decides expiry: `'store'` (Redis' own `TIME`, read inside every script) or
 * `'service'` (the `now` the lock service passes with every call).
 */
export type RedisLockStoreClock = 'store' | 'service';

export interface RedisLockStoreOptions {
  /**
   * A client the application made and owns: an ioredis 5 `Redis` or `Cluster`, or any object
   * with the few commands of {@link RedisLockClient}. The store never closes it.
   *
   * A lock call should fail rather than wait: give ioredis a small `maxRetriesPerRequest`
   * (e.g. 1) so a call made while Redis is away rejects instead of queueing for long.
   */
  client: RedisLockClient;
  /** Put before every key (default `page-lock:`). Must not contain `{` or `}`. */
  prefix?: string;
  /**
   * How long (ms) a resource's grant and remembered endings outlive its lease before Redis
   * expires them (default one day). Garbage collection only: expiry itself is decided by the
   * store's clock (see `clock`), never by a key's TTL. After it, a lapsed holder can no longer
   * resume, and its token is answered like one the store forgot. The fence counter never expires.
   */
  gcMargin?: number;
  /**
   * Which clock decides expiry (DESIGN invariant 6):
   * - `'store'` (default): Redis' own clock, `TIME` read inside every script, reads included.
   *   Every server instance sharing this Redis then decides by one clock, so instances whose
   *   clocks disagree never grant overlapping leases. The `now` each change reports (and the
   *   service answers with) is Redis' clock; `since`, `acquiredAt` and `expiresAt` are too.
   * - `'service'`: the `now` the lock service passes with every call. Correct only when every
   *   instance's clock agrees, or for a single instance; it is what lets tests (the contract
   *   suite) travel in time.
   */
  clock?: RedisLockStoreClock;
  /**
   * Warn once (console.warn), at the first use, when the Redis server keeps nothing across a
   * restart (`appendonly no` and no `save` points): a restart would then reset every fence
   * (invariant 2). Default true; the check needs `CONFIG GET`, and says nothing when the client
   * lacks `config` or the server refuses it. Pass false in tests against a throwaway Redis.
   */
  warnIfVolatile?: boolean;
}

const REFRESH = defineRedisScript(REFRESH_SCRIPT);
const ACQUIRE = defineRedisScript(ACQUIRE_SCRIPT);
const RELEASE = defineRedisScript(RELEASE_SCRIPT);
const TAKE_OVER = defineRedisScript(TAKE_OVER_SCRIPT);
const FORCE_RELEASE = defineRedisScript(FORCE_RELEASE_SCRIPT);
const ASK = defineRedisScript(ASK_SCRIPT);
const ANSWER = defineRedisScript(ANSWER_SCRIPT);
const LEAVE = defineRedisScript(LEAVE_SCRIPT);
const READ = defineRedisScript(READ_SCRIPT);

/**
 * A lock store in Redis, for several server instances. Every write is one Lua script (atomic in
 * Redis) that mirrors the shared lock rules; every read is one script that returns the record, and
 * the shared rules decide from it. Each resource keeps a small state hash (collected a margin
 * after the last lease in it, the grant's or a waiting place's) and a fence counter that never
 * expires. The line of tabs waiting for a resource lives in its state hash, with the grant.
 *
 * Expiry is decided by Redis' own clock (`TIME` inside each script) unless `clock: 'service'`
 * says otherwise, so server instances whose clocks disagree never grant overlapping leases.
 * Run Redis with `appendonly yes`: a Redis that forgets everything on restart resets the fences
 * (the store warns once when it sees one; `warnIfVolatile: false` silences it).
 *
 * `list()` walks the keys with SCAN: an admin call, not for hot paths. On Redis Cluster it sees
 * the node the client sends it to.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisLockStore } from 'page-lock/redis';
 *
 * const store = createRedisLockStore({ client: new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 }) });
 * // Tests that travel in time through the service's clock: createRedisLockStore({ client, clock: 'service' })
 * ```
 */
export function createRedisLockStore(options: RedisLockStoreOptions): LockStore {
  const { client } = options ?? {};
  if (!client) throw new Error('[page-lock] [redis] Missing option "client"');
  const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
  checkRedisPrefix(prefix);
  const gcMargin = options.gcMargin ?? DEFAULT_REDIS_GC_MARGIN;
  if (!Number.isSafeInteger(gcMargin) || gcMargin <= 0) {
    throw new Error('[page-lock] [redis] Option "gcMargin" must be a positive whole number of ms');
  }
  const clock = options.clock ?? 'store';
  if (clock !== 'store' && clock !== 'service') {
    throw new Error('[page-lock] [redis] Option "clock" must be "store" or "service"');
  }
  const byStoreClock = clock === 'store';
  const margin = String(gcMargin);
  const maxEndings = String(MAX_REMEMBERED_ENDINGS);
  const warnIfVolatile = options.warnIfVolatile ?? true;
  let checkedPersistence = !warnIfVolatile;
  /** Runs the persistence check once, beside the first call; it never fails or delays a call. */
  const firstUse = (): void => {
    if (checkedPersistence) return;
    checkedPersistence = true;
    void warnOnceIfVolatile(client);
  };

  /** The `now` argument of a script: '' tells it to read Redis' clock. */
  const nowArg = (given: number): string => (byStoreClock ? '' : String(given));
  /** The arguments every write script begins with: now, gcMarginMs, maxEndings, queueGrace. */
  const writeArgs = (given: number, queueGrace: number | undefined): string[] => [
    nowArg(given),
    margin,
    maxEndings,
    String(queueGrace ?? DEFAULT_QUEUE_GRACE),
  ];
  /** The clock a call decided by: the service's exactly as given, or what the script read. */
  const decidedNow = (given: number, reply: unknown): number => {
    if (!byStoreClock) return given;
    const now = typeof reply === 'string' ? Number(reply) : Number.NaN;
    if (!Number.isFinite(now)) throw unexpectedReply(reply);
    return now;
  };

  const keysOf = (resourceId: string): string[] => {
    const { state, fence } = redisResourceKeys(prefix, resourceId);
    return [state, fence];
  };

  /** The record and the clock to judge it by (Redis' at the read, or the service's). */
  const readRecord = async (
    resourceId: string,
    given: number,
  ): Promise<{ record: ResourceRecord | null; now: number }> => {
    firstUse();
    const reply = await READ.run(client, keysOf(resourceId), []);
    const [fence, fields, time] = replyArray(reply, 3);
    return {
      record: decodeRecord(resourceId, fence, fields),
      now: byStoreClock ? redisTimeMs(time) : given,
    };
  };

  const readLiveLock = async (resourceId: string, given: number): Promise<StoredLock | null> => {
    const { record, now } = await readRecord(resourceId, given);
    const lock = record?.lock ?? null;
    return isLive(lock, now) ? lock : null;
  };

  return {
    async acquire(input) {
      firstUse();
      const keys = keysOf(input.resourceId);
      const holder = encodeHolder(input.holder);
      const { token } = input;
      // A refresh of a live lease by its holder is the small script; anything else (it answers
      // false and changed nothing) takes the rules in the acquire script.
      if (token !== undefined && token !== '') {
        const refreshed = await REFRESH.run(
          client,
          [keys[0] as string],
          [nowArg(input.now), margin, token, input.holder.id, holder, String(input.ttl)],
        );
        if (refreshed !== null && refreshed !== false) {
          const [clientId, fence, since, acquiredAt, expiresAt, queue, nowReply] = replyArray(
            refreshed,
            7,
          );
          const fields = [token, clientId, holder, fence, since, acquiredAt, expiresAt, queue];
          const lock = required(decodeLock(input.resourceId, fields));
          return { outcome: 'refreshed', lock, now: decidedNow(input.now, nowReply) };
        }
      }
      const reply = await ACQUIRE.run(client, keys, [
        ...writeArgs(input.now, input.queueGrace),
        token === undefined ? '0' : '1',
        token ?? '',
        input.clientId,
        input.holder.id,
        holder,
        input.newToken,
        String(input.ttl),
      ]);
      const [outcome, lockReply, replacedReply, ending, nowReply] = replyArray(reply, 5);
      const now = decidedNow(input.now, nowReply);
      const lock = decodeLock(input.resourceId, lockReply);
      switch (outcome) {
        case 'granted':
          return {
            outcome,
            lock: required(lock),
            replaced: decodeLock(input.resourceId, replacedReply),
            now,
          };
        case 'refreshed':
        case 'resumed':
        case 'reclaimed':
        case 'locked':
          return { outcome, lock: required(lock), now };
        case 'dead-token':
          return { outcome, lock, ending: decodeEnding(ending), now };
        default:
          throw unexpectedReply(reply);
      }
    },

    async release(input): Promise<DecidedAt<StoreReleaseResult>> {
      firstUse();
      const reply = await RELEASE.run(client, keysOf(input.resourceId), [
        ...writeArgs(input.now, input.queueGrace),
        input.token,
      ]);
      const [outcome, lockReply, passedToReply, nowReply] = replyArray(reply, 4);
      const now = decidedNow(input.now, nowReply);
      switch (outcome) {
        case 'released': {
          const lock = required(decodeLock(input.resourceId, lockReply));
          const passedTo = decodeLock(input.resourceId, passedToReply);
          return passedTo ? { outcome, lock, passedTo, now } : { outcome, lock, now };
        }
        case 'free':
        case 'not-holder':
          return { outcome, now };
        default:
          throw unexpectedReply(reply);
      }
    },

    async takeOver(input) {
      firstUse();
      const reply = await TAKE_OVER.run(client, keysOf(input.resourceId), [
        ...writeArgs(input.now, input.queueGrace),
        String(input.expectedFence),
        input.clientId,
        input.holder.id,
        encodeHolder(input.holder),
        input.newToken,
        String(input.ttl),
        input.expectFree ? '1' : '0',
      ]);
      const [outcome, lockReply, replacedReply, nowReply] = replyArray(reply, 4);
      const now = decidedNow(input.now, nowReply);
      const lock = decodeLock(input.resourceId, lockReply);
      switch (outcome) {
        case 'granted':
          return {
            outcome,
            lock: required(lock),
            replaced: decodeLock(input.resourceId, replacedReply),
            now,
          };
        case 'fence-mismatch':
          return { outcome, lock, now };
        default:
          throw unexpectedReply(reply);
      }
    },

    async check(input): Promise<DecidedAt<StoreCheckResult>> {
      const { record, now } = await readRecord(input.resourceId, input.now);
      return { ...applyCheck(record, { ...input, now }), now };
    },

    async get(resourceId, { now }) {
      return readLiveLock(resourceId, now);
    },

    async getMany(resourceIds, { now }) {
      // One read per resource: their keys sit in different cluster slots. ioredis pipelines them.
      const locks = await Promise.all(resourceIds.map((id) => readLiveLock(id, now)));
      const found = new Map<string, StoredLock>();
      for (const lock of locks) if (lock) found.set(lock.resourceId, lock);
      return found;
    },

    async list({ now }) {
      firstUse();
      const pattern = redisStateKeyPattern(prefix);
      const resourceIds = new Set<string>();
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        for (const key of keys) {
          const id = resourceIdOfStateKey(prefix, key);
          if (id !== null) resourceIds.add(id);
        }
        cursor = next;
      } while (cursor !== '0');
      const locks = await Promise.all([...resourceIds].map((id) => readLiveLock(id, now)));
      return locks.filter((lock): lock is StoredLock => lock !== null);
    },

    async forceRelease(resourceId, { now, queueGrace }) {
      firstUse();
      const reply = await FORCE_RELEASE.run(client, keysOf(resourceId), writeArgs(now, queueGrace));
      return decodeLock(resourceId, reply);
    },

    async ask(input): Promise<DecidedAt<StoreAskResult>> {
      firstUse();
      const reply = await ASK.run(client, keysOf(input.resourceId), [
        ...writeArgs(input.now, input.queueGrace),
        input.clientId,
        input.holder.id,
        encodeHolder(input.holder),
        input.waiterId,
        // As JSON text, never decoded in Lua: null stays null, and any text stays as it was.
        JSON.stringify(input.message ?? null),
        input.renew ? '1' : '0',
        String(input.ttl),
        String(input.askTimeout),
        input.newToken,
        String(input.maxQueue),
      ]);
      const [outcome, lockReply, waiterReply, placeReply, nowReply] = replyArray(reply, 5);
      const now = decidedNow(input.now, nowReply);
      const lock = decodeLock(input.resourceId, lockReply);
      switch (outcome) {
        case 'queued':
          return {
            outcome,
            lock: required(lock),
            waiter: decodeWaiter(waiterReply),
            place: Number(placeReply),
            now,
          };
        case 'reclaimed':
        case 'self':
        case 'queue-full':
          return { outcome, lock: required(lock), now };
        case 'free':
          return { outcome, now };
        default:
          throw unexpectedReply(reply);
      }
    },

    async answer(input): Promise<DecidedAt<StoreAnswerResult>> {
      firstUse();
      const reply = await ANSWER.run(client, keysOf(input.resourceId), [
        ...writeArgs(input.now, input.queueGrace),
        input.token,
        input.waiterId,
        input.answer,
      ]);
      const [outcome, lockReply, replacedReply, nowReply] = replyArray(reply, 4);
      const now = decidedNow(input.now, nowReply);
      const lock = decodeLock(input.resourceId, lockReply);
      switch (outcome) {
        case 'handed-over':
          return {
            outcome,
            lock: required(lock),
            replaced: required(decodeLock(input.resourceId, replacedReply)),
            now,
          };
        case 'declined':
        case 'not-queued':
          return { outcome, lock: required(lock), now };
        case 'not-holder':
          return { outcome, lock, now };
        default:
          throw unexpectedReply(reply);
      }
    },

    async leave(input): Promise<DecidedAt<StoreLeaveResult>> {
      firstUse();
      const reply = await LEAVE.run(client, keysOf(input.resourceId), [
        ...writeArgs(input.now, input.queueGrace),
        input.clientId,
      ]);
      const [outcome, lockReply, nowReply] = replyArray(reply, 3);
      const now = decidedNow(input.now, nowReply);
      switch (outcome) {
        case 'left':
          return { outcome, lock: required(decodeLock(input.resourceId, lockReply)), now };
        case 'not-queued':
          return { outcome, now };
        default:
          throw unexpectedReply(reply);
      }
    },
  };
}

function encodeHolder(holder: LockUser): string {
  return JSON.stringify(holder);
}

/**
 * A lock as the scripts reply it:
 * `[token, clientId, holderJson, fence, since, acquiredAt, expiresAt, queueJson]` (`queueJson`
 * is `''` when nobody waits; the lock then has no `queue`, as the shared rules leave it).
 */
function decodeLock(resourceId: string, reply: unknown): StoredLock | null {
  if (!Array.isArray(reply) || reply.length === 0) return null;
  if (reply.length !== 8 || !reply.every((v) => typeof v === 'string')) {
    throw unexpectedReply(reply);
  }
  const [token, clientId, holder, fence, since, acquiredAt, expiresAt, queue] = reply as string[];
  const lock: StoredLock = {
    resourceId,
    holder: JSON.parse(holder as string) as LockUser,
    clientId: clientId as string,
    token: token as string,
    fence: Number(fence),
    since: Number(since),
    acquiredAt: Number(acquiredAt),
    expiresAt: Number(expiresAt),
  };
  const waiting = decodeQueue(queue);
  if (waiting.length > 0) lock.queue = waiting;
  return lock;
}

/** The read script's fence and `[field, value, ...]` as the record the shared rules take. */
function decodeRecord(resourceId: string, fence: unknown, flat: unknown): ResourceRecord | null {
  if (typeof fence !== 'string' || !Array.isArray(flat)) throw unexpectedReply([fence, flat]);
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), String(flat[i + 1]));
  if (fence === '0' && fields.size === 0) return null;
  const token = fields.get('token');
  const lock =
    token === undefined
      ? null
      : decodeLock(resourceId, [
          token,
          fields.get('clientId'),
          fields.get('holder'),
          fields.get('fence'),
          fields.get('since'),
          fields.get('acquiredAt'),
          fields.get('expiresAt'),
          fields.get('queue') ?? '',
        ]);
  return { resourceId, fence: Number(fence), lock, endings: decodeEndings(fields.get('endings')) };
}

/** Redis' `TIME` reply (`[seconds, microseconds]`) in epoch ms, as the scripts compute it. */
function redisTimeMs(reply: unknown): number {
  const [seconds, micros] = replyArray(reply, 2);
  const ms = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  if (!Number.isSafeInteger(ms)) throw unexpectedReply(reply);
  return ms;
}

/** Clients already checked for persistence, so one warning per client, however many stores. */
const persistenceChecked = new WeakSet<object>();

/**
 * Warns once when the server keeps nothing across a restart (no AOF, no RDB save points): the
 * fence counters would then start again at 0 after a restart. Silent when the client has no
 * `config` or the server refuses `CONFIG` (managed services often rename it).
 */
async function warnOnceIfVolatile(client: RedisLockClient): Promise<void> {
  if (typeof client.config !== 'function' || persistenceChecked.has(client)) return;
  persistenceChecked.add(client);
  try {
    const [appendonly, save] = await Promise.all([
      client.config('GET', 'appendonly'),
      client.config('GET', 'save'),
    ]);
    const aof = configValue(appendonly, 'appendonly');
    const rdb = configValue(save, 'save');
    if (aof === null || rdb === null) return;
    if (aof.toLowerCase() !== 'no' || rdb.trim() !== '') return;
    console.warn(
      '[page-lock] [redis] This Redis server keeps nothing across a restart (appendonly is "no" and "save" is empty): a restart resets every fence to 0, so fences go backwards and a stale holder\'s save could pass the fence check. Run Redis with "appendonly yes" (redis.conf, or CONFIG SET appendonly yes then CONFIG REWRITE). Pass warnIfVolatile: false to silence this warning.',
    );
  } catch {
    // CONFIG refused or not there: nothing to say.
  }
}

/** A `CONFIG GET` reply's value: ioredis gives `[name, value]`, node-redis `{ name: value }`. */
function configValue(reply: unknown, name: string): string | null {
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      if (String(reply[i]).toLowerCase() === name) return String(reply[i + 1]);
    }
    return null;
  }
  if (reply && typeof reply === 'object' && name in reply) {
    return String((reply as Record<string, unknown>)[name]);
  }
  return null;
}

function decodeEndings(raw: string | undefined): RememberedEnding[] {
  if (raw === undefined) return [];
  const parsed: unknown = JSON.parse(raw);
  // Lua's cjson writes an empty table as `{}`.
  return Array.isArray(parsed) ? (parsed as RememberedEnding[]) : [];
}

function decodeEnding(reply: unknown): LockEnding | null {
  if (
    reply === 'released' ||
    reply === 'taken-over' ||
    reply === 'expired' ||
    reply === 'handed-over'
  ) {
    return reply;
  }
  if (reply === '' || reply === null) return null;
  throw unexpectedReply(reply);
}

function replyArray(reply: unknown, length: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== length) throw unexpectedReply(reply);
  return reply;
}

function required(lock: StoredLock | null): StoredLock {
  if (!lock) throw new Error('[page-lock] [redis] A script replied without the lock it granted');
  return lock;
}

function unexpectedReply(reply: unknown): Error {
  return new Error(`[page-lock] [redis] Unexpected reply from a lock script: ${String(reply)}`);
}
