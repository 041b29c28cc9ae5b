import type { LockUser } from '../../src/core/protocol';
import {
  applyCheck,
  isLive,
  MAX_REMEMBERED_ENDINGS,
  type RememberedEnding,
  type ResourceRecord,
} from '../store/lock-rules';
import type { LockEnding, LockStore, StoredLock } from '../store/lock-store';
import {
  checkRedisPrefix,
  DEFAULT_REDIS_PREFIX,
  redisResourceKeys,
  redisStateKeyPattern,
  resourceIdOfStateKey,
} from './redis-keys';
import { defineRedisScript, type RedisLockClient } from './redis-lock-client';
import {
  ACQUIRE_SCRIPT,
  FORCE_RELEASE_SCRIPT,
  READ_SCRIPT,
  RELEASE_SCRIPT,
  TAKE_OVER_SCRIPT,
} from './redis-scripts';

/** One day: how long a resource's state outlives its lease before Redis may collect it. */
export const DEFAULT_REDIS_GC_MARGIN = 24 * 60 * 60 * 1000;

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
   * service's clock. After it, a lapsed holder can no longer resume, and its token is answered
   * like one the store forgot. The fence counter never expires.
   */
  gcMargin?: number;
}

const ACQUIRE = defineRedisScript(ACQUIRE_SCRIPT);
const RELEASE = defineRedisScript(RELEASE_SCRIPT);
const TAKE_OVER = defineRedisScript(TAKE_OVER_SCRIPT);
const FORCE_RELEASE = defineRedisScript(FORCE_RELEASE_SCRIPT);
const READ = defineRedisScript(READ_SCRIPT);

/**
 * A lock store in Redis, for several server instances. Every write is one Lua script (atomic in
 * Redis) that mirrors the shared lock rules; every read is one script that returns the record, and
 * the shared rules decide from it. Each resource keeps a small state hash (collected a margin
 * after its lease) and a fence counter that never expires.
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
  const margin = String(gcMargin);
  const maxEndings = String(MAX_REMEMBERED_ENDINGS);

  const keysOf = (resourceId: string): string[] => {
    const { state, fence } = redisResourceKeys(prefix, resourceId);
    return [state, fence];
  };

  const readRecord = async (resourceId: string): Promise<ResourceRecord | null> =>
    decodeRecord(resourceId, await READ.run(client, keysOf(resourceId), []));

  const readLiveLock = async (resourceId: string, now: number): Promise<StoredLock | null> => {
    const lock = (await readRecord(resourceId))?.lock ?? null;
    return isLive(lock, now) ? lock : null;
  };

  return {
    async acquire(input) {
      const reply = await ACQUIRE.run(client, keysOf(input.resourceId), [
        String(input.now),
        input.token === undefined ? '0' : '1',
        input.token ?? '',
        input.clientId,
        input.holder.id,
        encodeHolder(input.holder),
        input.newToken,
        String(input.now + input.ttl),
        margin,
        maxEndings,
      ]);
      const [outcome, lockReply, replacedReply, ending] = replyArray(reply, 4);
      const lock = decodeLock(input.resourceId, lockReply);
      switch (outcome) {
        case 'granted':
          return {
            outcome,
            lock: required(lock),
            replaced: decodeLock(input.resourceId, replacedReply),
          };
        case 'refreshed':
        case 'resumed':
        case 'reclaimed':
        case 'locked':
          return { outcome, lock: required(lock) };
        case 'dead-token':
          return { outcome, lock, ending: decodeEnding(ending) };
        default:
          throw unexpectedReply(reply);
      }
    },

    async release(input) {
      const reply = await RELEASE.run(client, keysOf(input.resourceId), [
        String(input.now),
        input.token,
        margin,
        maxEndings,
      ]);
      const [outcome, lockReply] = replyArray(reply, 2);
      switch (outcome) {
        case 'released':
          return { outcome, lock: required(decodeLock(input.resourceId, lockReply)) };
        case 'free':
        case 'not-holder':
          return { outcome };
        default:
          throw unexpectedReply(reply);
      }
    },

    async takeOver(input) {
      const reply = await TAKE_OVER.run(client, keysOf(input.resourceId), [
        String(input.now),
        String(input.expectedFence),
        input.clientId,
        input.holder.id,
        encodeHolder(input.holder),
        input.newToken,
        String(input.now + input.ttl),
        margin,
        maxEndings,
        input.expectFree ? '1' : '0',
      ]);
      const [outcome, lockReply, replacedReply] = replyArray(reply, 3);
      const lock = decodeLock(input.resourceId, lockReply);
      switch (outcome) {
        case 'granted':
          return {
            outcome,
            lock: required(lock),
            replaced: decodeLock(input.resourceId, replacedReply),
          };
        case 'fence-mismatch':
          return { outcome, lock };
        default:
          throw unexpectedReply(reply);
      }
    },

    async check(input) {
      return applyCheck(await readRecord(input.resourceId), input);
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

    async forceRelease(resourceId, { now }) {
      const reply = await FORCE_RELEASE.run(client, keysOf(resourceId), [
        String(now),
        margin,
        maxEndings,
      ]);
      return decodeLock(resourceId, reply);
    },
  };
}

function encodeHolder(holder: LockUser): string {
  return JSON.stringify(holder);
}

/** A lock as the scripts reply it: `[token, clientId, holderJson, fence, since, acquiredAt, expiresAt]`. */
function decodeLock(resourceId: string, reply: unknown): StoredLock | null {
  if (!Array.isArray(reply) || reply.length === 0) return null;
  if (reply.length !== 7 || !reply.every((v) => typeof v === 'string')) {
    throw unexpectedReply(reply);
  }
  const [token, clientId, holder, fence, since, acquiredAt, expiresAt] = reply as string[];
  return {
    resourceId,
    holder: JSON.parse(holder as string) as LockUser,
    clientId: clientId as string,
    token: token as string,
    fence: Number(fence),
    since: Number(since),
    acquiredAt: Number(acquiredAt),
    expiresAt: Number(expiresAt),
  };
}

/** The read script's `[fence, [field, value, ...]]` as the record the shared rules take. */
function decodeRecord(resourceId: string, reply: unknown): ResourceRecord | null {
  const [fence, flat] = replyArray(reply, 2);
  if (!Array.isArray(flat)) throw unexpectedReply(reply);
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
        ]);
  return { resourceId, fence: Number(fence), lock, endings: decodeEndings(fields.get('endings')) };
}

function decodeEndings(raw: string | undefined): RememberedEnding[] {
  if (raw === undefined) return [];
  const parsed: unknown = JSON.parse(raw);
  // Lua's cjson writes an empty table as `{}`.
  return Array.isArray(parsed) ? (parsed as RememberedEnding[]) : [];
}

function decodeEnding(reply: unknown): LockEnding | null {
  if (reply === 'released' || reply === 'taken-over' || reply === 'expired') return reply;
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
