import { createHash } from 'node:crypto';

/**
 * The few Redis commands the store uses. An ioredis 5 `Redis` (or `Cluster`) is one as it is;
 * any other client fits through a small object. With node-redis 4/5, for example:
 *
 * ```ts
 * const client: RedisLockClient = {
 *   evalsha: (sha, numKeys, ...rest) =>
 *     redis.evalSha(sha, { keys: rest.slice(0, numKeys), arguments: rest.slice(numKeys) }),
 *   eval: (script, numKeys, ...rest) =>
 *     redis.eval(script, { keys: rest.slice(0, numKeys), arguments: rest.slice(numKeys) }),
 *   scan: async (cursor, _match, pattern, _count, count) => {
 *     const reply = await redis.scan(cursor, { MATCH: pattern, COUNT: count });
 *     return [String(reply.cursor), reply.keys];
 *   },
 *   config: (_get, parameter) => redis.configGet(parameter),
 * };
 * ```
 *
 * Replies must come back as Redis sends them: bulk strings as strings, arrays as arrays, nil as
 * null. A failed command must reject (the NOSCRIPT error's message must start with `NOSCRIPT`).
 */
export interface RedisLockClient {
  /** `EVALSHA sha numKeys ...keys ...args`. */
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** `EVAL script numKeys ...keys ...args`. */
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** `SCAN cursor MATCH pattern COUNT count`; only `list()`, an admin call, uses it. */
  scan(
    cursor: string,
    matchToken: 'MATCH',
    pattern: string,
    countToken: 'COUNT',
    count: number,
  ): Promise<[cursor: string, keys: string[]]>;
  /**
   * `CONFIG GET parameter`, optional: used once, to warn when the server keeps nothing across a
   * restart (see `warnIfVolatile`). ioredis replies `[name, value]`; a node-redis wrapper may give
   * `redis.configGet(parameter)` (`{ name: value }`). Without it, or when the server refuses
   * `CONFIG`, the store says nothing.
   */
  config?(subcommand: 'GET', parameter: string): Promise<unknown>;
}

/** A Lua script run by its SHA1, loaded with EVAL the first time a server does not know it. */
export interface RedisScript {
  run(client: RedisLockClient, keys: readonly string[], args: readonly string[]): Promise<unknown>;
}

export function defineRedisScript(source: string): RedisScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    async run(client, keys, args) {
      try {
        return await client.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        // A restarted or flushed server forgot the script; EVAL runs it and caches it again.
        if (!isNoScriptError(error)) throw error;
        return await client.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}

function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
