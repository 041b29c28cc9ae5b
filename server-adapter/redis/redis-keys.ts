/**
 * Key names of the Redis store. Each resource has two keys that share a hash tag (the braces),
 * so both live in one Redis Cluster slot and one script may touch them:
 *
 * - `{prefix}{{resourceId}}:state`: a hash with the current grant and the last few endings; it
 *   expires a margin after the lease, as garbage collection only.
 * - `{prefix}{{resourceId}}:fence`: the last fence granted; it never expires, so fences never go
 *   backwards, not even after the state was collected.
 *
 * Braces and `%` in the resource id are percent-escaped so an id can never move the hash tag.
 */

export const DEFAULT_REDIS_PREFIX = 'page-lock:';

const STATE_SUFFIX = '}:state';
const FENCE_SUFFIX = '}:fence';

export interface RedisResourceKeys {
  state: string;
  fence: string;
}

export function checkRedisPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new Error(
      '[page-lock] [redis] Option "prefix" must be a string without "{" or "}" (the store puts each resource in its own hash tag)',
    );
  }
}

export function redisResourceKeys(prefix: string, resourceId: string): RedisResourceKeys {
  const tagged = `${prefix}{${escapeResourceId(resourceId)}`;
  return { state: tagged + STATE_SUFFIX, fence: tagged + FENCE_SUFFIX };
}

/** The SCAN pattern that matches every state key under `prefix`. */
export function redisStateKeyPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}{*${STATE_SUFFIX}`;
}

/** The resource id a state key belongs to, or null for a key that is not one of ours. */
export function resourceIdOfStateKey(prefix: string, key: string): string | null {
  const start = `${prefix}{`;
  if (!key.startsWith(start) || !key.endsWith(STATE_SUFFIX)) return null;
  return unescapeResourceId(key.slice(start.length, key.length - STATE_SUFFIX.length));
}

function escapeResourceId(resourceId: string): string {
  return resourceId.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unescapeResourceId(escaped: string): string {
  return escaped.replace(/%(25|7B|7D)/g, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}
