/**
 * The Lua scripts behind the Redis store. Each write is one script, so Redis runs it atomically:
 * no other command touches the resource's keys between the read and the write.
 *
 * They mirror `server-adapter/store/lock-rules.ts` line for line (the function names below match
 * the TypeScript ones); the shared contract suite checks that they decide exactly alike. Reads
 * need no rules in Lua: one script returns the record and the TypeScript rules decide.
 *
 * Keys: KEYS[1] is the resource's state hash (its current grant and its last endings; it expires
 * a margin after the lease, as garbage collection only), KEYS[2] its fence counter (never expires,
 * so fences never go backwards). Both share a hash tag, so they live in one cluster slot.
 *
 * Numbers travel as decimal strings and are compared with `tonumber`: doubles are exact for
 * integers below 2^53, which epoch milliseconds and fences stay far below.
 *
 * The clock (invariant 6): every script's first argument is the service's `now`, or `''` to
 * decide by Redis' own clock (`TIME`, read inside the script, so every instance sharing this
 * Redis decides by one clock). Each script replies the `now` it decided by.
 */

const PRELUDE = `
-- Redis < 5 replicates scripts verbatim and refuses writes after TIME unless told to replicate
-- their effects; Redis 7 always does (and keeps this call as a no-op).
if redis.replicate_commands then redis.replicate_commands() end

local LOCK_FIELDS = {'token', 'clientId', 'holderId', 'holder', 'fence', 'since', 'acquiredAt', 'expiresAt'}

local function read_lock(key)
  local v = redis.call('HMGET', key, unpack(LOCK_FIELDS))
  if not v[1] then return nil end
  return {
    token = v[1], clientId = v[2], holderId = v[3], holder = v[4],
    fence = v[5], since = v[6], acquiredAt = v[7], expiresAt = v[8],
  }
end

local function read_endings(key)
  local raw = redis.call('HGET', key, 'endings')
  if not raw then return {} end
  local endings = cjson.decode(raw)
  if type(endings) ~= 'table' then return {} end
  return endings
end

local function is_live(lock, now)
  return lock ~= nil and tonumber(lock.expiresAt) > now
end

local function ending_of(endings, token)
  for _, e in ipairs(endings) do
    if e.token == token then return e.ending end
  end
  return ''
end

local function remember(endings, lock, ending, max)
  local kept = {}
  for _, e in ipairs(endings) do
    if e.token ~= lock.token then kept[#kept + 1] = e end
  end
  kept[#kept + 1] = { token = lock.token, fence = tonumber(lock.fence), ending = ending }
  local out = {}
  for i = math.max(1, #kept - max + 1), #kept do out[#out + 1] = kept[i] end
  return out
end

local function as_integer(n)
  return string.format('%.0f', n)
end

-- A number as text that reads back as the same double: integers in full (tostring keeps only 14
-- digits), anything else with the 17 significant digits that make a double round-trip.
local function number_text(n)
  if n == math.floor(n) then return as_integer(n) end
  return string.format('%.17g', n)
end

-- The clock this call decides by: the service's (given as text), or Redis' own when given ''.
-- Returns it as a number and as the text stored in the lock.
local function decide_now(given)
  if given ~= '' then return tonumber(given), given end
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  return ms, as_integer(ms)
end

-- Writes the record back. The key's expiry is garbage collection only: a margin past the lease
-- (its time left by the clock the call decided by, then counted by Redis), never what decides
-- that a lock lapsed.
local function write_state(key, lock, endings, now, margin)
  if lock then
    redis.call('HSET', key,
      'token', lock.token, 'clientId', lock.clientId, 'holderId', lock.holderId,
      'holder', lock.holder, 'fence', lock.fence, 'since', lock.since,
      'acquiredAt', lock.acquiredAt, 'expiresAt', lock.expiresAt)
  else
    redis.call('HDEL', key, unpack(LOCK_FIELDS))
  end
  if #endings > 0 then
    redis.call('HSET', key, 'endings', cjson.encode(endings))
  else
    redis.call('HDEL', key, 'endings')
  end
  local keep = margin
  if lock then keep = math.max(0, tonumber(lock.expiresAt) - now) + margin end
  if redis.call('EXISTS', key) == 1 then
    redis.call('PEXPIRE', key, as_integer(math.max(1, keep)))
  end
end

local function lock_reply(lock)
  if not lock then return {} end
  return { lock.token, lock.clientId, lock.holder, lock.fence, lock.since, lock.acquiredAt, lock.expiresAt }
end

-- A new grant: the next fence (INCR on the counter that never expires), since = now unless kept.
local function grant(state_key, fence_key, current, endings, replaced_ending, keep_since, g)
  local fence = redis.call('INCR', fence_key)
  local lock = {
    token = g.new_token, clientId = g.client_id, holderId = g.holder_id, holder = g.holder,
    fence = as_integer(fence), since = keep_since or g.now_text, acquiredAt = g.now_text,
    expiresAt = g.expires_at,
  }
  if current then endings = remember(endings, current, replaced_ending, g.max_endings) end
  write_state(state_key, lock, endings, g.now, g.margin)
  return lock
end
`;

/**
 * The first part of the acquire script: a refresh of a live lease by its holder (the token is the
 * current grant's, the holder the same user, the lease live), which is nearly all of a lock
 * server's traffic, decided from three fields and written as two: no endings decoded or encoded,
 * none of the rules' functions defined. Any other case falls through to the full rules below, in
 * the same script (so still one atomic step). It decides exactly as `applyAcquire` does for that
 * case: same lock, holder text as given, `expiresAt = now + ttl`, the key's expiry moved.
 */
const REFRESH_FAST_PATH = `
if redis.replicate_commands then redis.replicate_commands() end
if ARGV[2] == '1' then
  local f = redis.call('HMGET', KEYS[1], 'token', 'holderId', 'expiresAt')
  if f[1] == ARGV[3] and f[2] == ARGV[5] then
    local now, now_text
    if ARGV[1] ~= '' then
      now, now_text = tonumber(ARGV[1]), ARGV[1]
    else
      local t = redis.call('TIME')
      now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      now_text = string.format('%.0f', now)
    end
    if tonumber(f[3]) > now then
      local expires = now + tonumber(ARGV[8])
      local expires_text
      if expires == math.floor(expires) then
        expires_text = string.format('%.0f', expires)
      else
        expires_text = string.format('%.17g', expires)
      end
      redis.call('HSET', KEYS[1], 'holder', ARGV[6], 'expiresAt', expires_text)
      local keep = math.max(0, tonumber(expires_text) - now) + tonumber(ARGV[9])
      redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.max(1, keep)))
      local v = redis.call('HMGET', KEYS[1], 'clientId', 'fence', 'since', 'acquiredAt')
      return { 'refreshed', { f[1], v[1], ARGV[6], v[2], v[3], v[4], expires_text }, {}, '', now_text }
    end
  end
end
`;

/**
 * Acquire, refresh, resume or reclaim (`applyAcquire`).
 * ARGV: now ('' = Redis' clock), hasToken ('1' | '0'), token, clientId, holderId, holderJson,
 * newToken, ttlMs, gcMarginMs, maxEndings. Replies `{ outcome, lock, replaced, ending, now }`.
 */
export const ACQUIRE_SCRIPT = `${REFRESH_FAST_PATH}${PRELUDE}
local now, now_text = decide_now(ARGV[1])
local has_token = ARGV[2] == '1'
local token = ARGV[3]
local g = {
  now = now, now_text = now_text, client_id = ARGV[4], holder_id = ARGV[5], holder = ARGV[6],
  new_token = ARGV[7], expires_at = number_text(now + tonumber(ARGV[8])),
  margin = tonumber(ARGV[9]), max_endings = tonumber(ARGV[10]),
}
local current = read_lock(KEYS[1])
local live = nil
if is_live(current, now) then live = current end
local same_holder = current ~= nil and current.holderId == g.holder_id

-- The same grant for longer; a reclaim also rotates the token (the old one is dead).
local function extend(outcome, rotate_token)
  current.holder = g.holder
  current.expiresAt = g.expires_at
  if rotate_token then current.token = g.new_token end
  write_state(KEYS[1], current, read_endings(KEYS[1]), now, g.margin)
  return { outcome, lock_reply(current), {}, '', now_text }
end

if has_token then
  if current ~= nil and same_holder and current.token == token then
    if live then return extend('refreshed', false) end
    return extend('resumed', false)
  end
  return { 'dead-token', lock_reply(live), {}, ending_of(read_endings(KEYS[1]), token), now_text }
end

-- A reload of the holding tab gets its own grant back, live or lapsed-but-not-superseded, under
-- a fresh token: the page before the reload may still send a release with the old one.
if current ~= nil and same_holder and current.clientId == g.client_id then
  return extend('reclaimed', true)
end
if live then return { 'locked', lock_reply(live), {}, '', now_text } end

local lock = grant(KEYS[1], KEYS[2], current, read_endings(KEYS[1]), 'expired', nil, g)
return { 'granted', lock_reply(lock), lock_reply(current), '', now_text }
`;

/**
 * Release (`applyRelease`). ARGV: now ('' = Redis' clock), token, gcMarginMs, maxEndings.
 * Replies `{ outcome, lock, now }`.
 */
export const RELEASE_SCRIPT = `${PRELUDE}
local now, now_text = decide_now(ARGV[1])
local current = read_lock(KEYS[1])
if current ~= nil and current.token == ARGV[2] then
  local endings = remember(read_endings(KEYS[1]), current, 'released', tonumber(ARGV[4]))
  write_state(KEYS[1], nil, endings, now, tonumber(ARGV[3]))
  return { 'released', lock_reply(current), now_text }
end
if is_live(current, now) then return { 'not-holder', {}, now_text } end
return { 'free', {}, now_text }
`;

/**
 * Take over (`applyTakeOver`). ARGV: now ('' = Redis' clock), expectedFence, clientId, holderId,
 * holderJson, newToken, ttlMs, gcMarginMs, maxEndings, expectFree ('1' | '0').
 * Replies `{ outcome, lock, replaced, now }`.
 */
export const TAKE_OVER_SCRIPT = `${PRELUDE}
local now, now_text = decide_now(ARGV[1])
local g = {
  now = now, now_text = now_text, client_id = ARGV[3], holder_id = ARGV[4], holder = ARGV[5],
  new_token = ARGV[6], expires_at = number_text(now + tonumber(ARGV[7])),
  margin = tonumber(ARGV[8]), max_endings = tonumber(ARGV[9]),
}
local fence = tonumber(redis.call('GET', KEYS[2]) or '0')
local current = read_lock(KEYS[1])
local live = nil
if is_live(current, now) then live = current end
if fence ~= tonumber(ARGV[2]) or (ARGV[10] == '1' and live) then
  return { 'fence-mismatch', lock_reply(live), {}, now_text }
end
local keep_since = nil
if live and live.holderId == g.holder_id then keep_since = live.since end
local replaced_ending = 'expired'
if live then replaced_ending = 'taken-over' end
local lock = grant(KEYS[1], KEYS[2], current, read_endings(KEYS[1]), replaced_ending, keep_since, g)
return { 'granted', lock_reply(lock), lock_reply(current), now_text }
`;

/**
 * Force release (`applyForceRelease`). ARGV: now ('' = Redis' clock), gcMarginMs, maxEndings.
 * Replies the live lock it ended, or an empty array.
 */
export const FORCE_RELEASE_SCRIPT = `${PRELUDE}
local now = decide_now(ARGV[1])
local current = read_lock(KEYS[1])
if current == nil then return {} end
local live = is_live(current, now)
write_state(KEYS[1], nil, remember(read_endings(KEYS[1]), current, 'released', tonumber(ARGV[3])), now, tonumber(ARGV[2]))
if live then return lock_reply(current) end
return {}
`;

/**
 * The whole record in one atomic read, with Redis' clock at that moment:
 * `{ fence, stateFieldsAndValues, [seconds, microseconds] }`. The TypeScript rules (`applyCheck`,
 * `isLive`) decide from it, by that clock or the service's, so reads need no Lua mirror of the
 * rules.
 */
export const READ_SCRIPT = `
return { redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1]), redis.call('TIME') }
`;
