/**
 * The Lua scripts behind the Redis store. Each write is one script, so Redis runs it atomically:
 * no other command touches the resource's keys between the read and the write.
 *
 * They mirror `server-adapter/store/lock-rules.ts` line for line (the function names below match
 * the TypeScript ones); the shared contract suite checks that they decide exactly alike. Reads
 * need no rules in Lua: one script returns the record and the TypeScript rules decide.
 *
 * Keys: KEYS[1] is the resource's state hash (its current grant, the line waiting for it and its
 * last endings; it expires a margin after the last lease in it, grant or place, as garbage
 * collection only), KEYS[2] its fence counter (never expires, so fences never go backwards). Both
 * share a hash tag, so they live in one cluster slot.
 *
 * Numbers travel as decimal strings and are compared with `tonumber`: doubles are exact for
 * integers below 2^53, which epoch milliseconds and fences stay far below.
 *
 * The line is the hash field `queue`: a JSON array (cjson) of places, first first, absent when
 * nobody waits (cjson would write an empty table as `{}`). Every value in a place is a string, so
 * cjson never formats a number (it keeps 14 digits) nor meets a null: numbers as the lock's fields
 * keep them, and the waiter's `user` and `message` as the JSON text the store was given, never
 * decoded in Lua (cjson refuses a lone surrogate's escape, and writes `[]` as `{}`). A place also
 * keeps its user's id (`userId`), which a grant to it stores as `holderId`.
 *
 * Every write script takes the same first four arguments: now ('' = Redis' clock), gcMarginMs,
 * maxEndings, queueGrace. The clock (invariant 6): `now` is the service's, or `''` to decide by
 * Redis' own clock (`TIME`, read inside the script, so every instance sharing this Redis decides
 * by one clock). Each script replies the `now` it decided by.
 */

const PRELUDE = `
-- Redis < 5 replicates scripts verbatim and refuses writes after TIME unless told to replicate
-- their effects; Redis 7 always does (and keeps this call as a no-op).
if redis.replicate_commands then redis.replicate_commands() end

local RECORD_FIELDS = {
  'token', 'clientId', 'holderId', 'holder', 'fence', 'since', 'acquiredAt', 'expiresAt',
  'queue', 'endings',
}
local LOCK_FIELDS = {'token', 'clientId', 'holderId', 'holder', 'fence', 'since', 'acquiredAt', 'expiresAt', 'queue'}

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

local now, now_text = decide_now(ARGV[1])
local GC_MARGIN = tonumber(ARGV[2])
local MAX_REMEMBERED_ENDINGS = tonumber(ARGV[3])
local queue_grace = tonumber(ARGV[4])

-- A copy one level deep: a rule never changes the record it was given, as in TypeScript.
local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function decode_list(raw)
  if not raw then return {} end
  local list = cjson.decode(raw)
  if type(list) ~= 'table' then return {} end
  return list
end

-- All the store keeps for the resource: its fence, its current grant (live or lapsed, with the
-- line in it as queue, absent when nobody waits) and its last endings.
local function read_record()
  local v = redis.call('HMGET', KEYS[1], unpack(RECORD_FIELDS))
  local lock = nil
  if v[1] then
    lock = {
      token = v[1], clientId = v[2], holderId = v[3], holder = v[4],
      fence = v[5], since = v[6], acquiredAt = v[7], expiresAt = v[8],
    }
    local queue = decode_list(v[9])
    if #queue > 0 then lock.queue = queue end
  end
  return { fence = tonumber(redis.call('GET', KEYS[2]) or '0'), lock = lock, endings = decode_list(v[10]) }
end

-- Writes the record back. The key's expiry is garbage collection only: a margin past the last
-- lease in it, the grant's or a waiting place's (its time left by the clock the call decided by,
-- then counted by Redis), never what decides that a lock or a place lapsed.
local function write_record(record)
  local lock = record.lock
  if lock then
    redis.call('HSET', KEYS[1],
      'token', lock.token, 'clientId', lock.clientId, 'holderId', lock.holderId,
      'holder', lock.holder, 'fence', lock.fence, 'since', lock.since,
      'acquiredAt', lock.acquiredAt, 'expiresAt', lock.expiresAt)
    if lock.queue then
      redis.call('HSET', KEYS[1], 'queue', cjson.encode(lock.queue))
    else
      redis.call('HDEL', KEYS[1], 'queue')
    end
  else
    redis.call('HDEL', KEYS[1], unpack(LOCK_FIELDS))
  end
  if #record.endings > 0 then
    redis.call('HSET', KEYS[1], 'endings', cjson.encode(record.endings))
  else
    redis.call('HDEL', KEYS[1], 'endings')
  end
  local keep_for = GC_MARGIN
  if lock then
    local last = tonumber(lock.expiresAt)
    for _, w in ipairs(lock.queue or {}) do last = math.max(last, tonumber(w.expiresAt)) end
    keep_for = math.max(0, last - now) + GC_MARGIN
  end
  if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('PEXPIRE', KEYS[1], as_integer(math.max(1, keep_for)))
  end
end

-- A lock as the scripts reply it; its line as the JSON the hash keeps ('' when nobody waits).
local function lock_reply(lock)
  if not lock then return {} end
  local queue = ''
  if lock.queue then queue = cjson.encode(lock.queue) end
  return { lock.token, lock.clientId, lock.holder, lock.fence, lock.since, lock.acquiredAt, lock.expiresAt, queue }
end

local function is_live(lock, now)
  return lock ~= nil and tonumber(lock.expiresAt) > now
end

local function remember(endings, lock, ending)
  local kept = {}
  for _, e in ipairs(endings) do
    if e.token ~= lock.token then kept[#kept + 1] = e end
  end
  kept[#kept + 1] = { token = lock.token, fence = tonumber(lock.fence), ending = ending }
  local out = {}
  for i = math.max(1, #kept - MAX_REMEMBERED_ENDINGS + 1), #kept do out[#out + 1] = kept[i] end
  return out
end

local function ending_of(record, token)
  for _, e in ipairs(record.endings) do
    if e.token == token then return e.ending end
  end
  return ''
end

local function queue_of(record)
  if record.lock and record.lock.queue then return record.lock.queue end
  return {}
end

-- Sets the lock's line; an empty line is no queue field at all.
local function with_queue(lock, queue)
  if #queue > 0 then lock.queue = queue else lock.queue = nil end
  return lock
end

local function with_lock(record, lock)
  return { fence = record.fence, lock = lock, endings = record.endings }
end

-- The places still live at now (a place with expiresAt <= now has departed), in order.
local function live_places(queue, now)
  local waiting = {}
  for _, w in ipairs(queue) do
    if tonumber(w.expiresAt) > now then waiting[#waiting + 1] = w end
  end
  return waiting
end

local function all_but_first(list)
  local rest = {}
  for i = 2, #list do rest[#rest + 1] = list[i] end
  return rest
end

-- A new grant: the next fence (INCR on the counter that never expires), since = now unless kept.
local function grant(record, input, replaced_ending, keep_since)
  local fence = redis.call('INCR', KEYS[2])
  local lock = {
    token = input.new_token, clientId = input.client_id, holderId = input.holder_id,
    holder = input.holder, fence = as_integer(fence), since = keep_since or now_text,
    acquiredAt = now_text, expiresAt = number_text(input.now + input.ttl),
  }
  -- The line passes to the new grant; a tab granted the page is no longer waiting for it.
  local queue = {}
  for _, w in ipairs(queue_of(record)) do
    if w.clientId ~= input.client_id then queue[#queue + 1] = w end
  end
  with_queue(lock, queue)
  local endings = record.endings
  if record.lock then endings = remember(endings, record.lock, replaced_ending) end
  return lock, { fence = fence, lock = lock, endings = endings }
end

-- Grants the resource to a waiter that reached the front (or was handed it): nobody knows the
-- token (''), its tab takes it by reclaiming within queue_grace. ending: how the grant it
-- replaces ended.
local function pass_to(record, waiter, rest, now, queue_grace, ending)
  local fence = redis.call('INCR', KEYS[2])
  local lock = with_queue({
    token = '', clientId = waiter.clientId, holderId = waiter.userId, holder = waiter.user,
    fence = as_integer(fence), since = number_text(now), acquiredAt = number_text(now),
    expiresAt = number_text(now + queue_grace),
  }, rest)
  local endings = record.endings
  if record.lock then endings = remember(endings, record.lock, ending) end
  return { fence = fence, lock = lock, endings = endings }
end

-- The line as of now, applied first by every change: departed waiters (place lapsed) are
-- dropped, and a grant that is gone or lapsed passes to the first waiter left. Returns the same
-- record table when nothing changed.
local function settle_queue(record, now, queue_grace)
  local queue = queue_of(record)
  if #queue == 0 then return record end
  local waiting = live_places(queue, now)
  local current = record.lock
  if tonumber(current.expiresAt) > now then
    if #waiting == #queue then return record end
    return with_lock(record, with_queue(copy(current), waiting))
  end
  local first = waiting[1]
  if first then return pass_to(record, first, all_but_first(waiting), now, queue_grace, 'expired') end
  return with_lock(record, with_queue(copy(current), {}))
end

-- The settled record, and whether settling changed it (then it must be written back).
local function settled(stored, now, queue_grace)
  local record = settle_queue(stored, now, queue_grace)
  return record, record ~= stored
end

-- A rule's outcome on a settled record: nothing changed by the rule still writes what settling did.
local function keep(record, moved)
  if moved then write_record(record) end
end

-- The same grant for longer; a reclaim also rotates the token (the old one is dead).
local function extend(record, input, rotate_token)
  local lock = copy(record.lock)
  lock.holder = input.holder
  if rotate_token then lock.token = input.new_token end
  lock.expiresAt = number_text(input.now + input.ttl)
  return lock, with_lock(record, lock)
end

-- Ends the current grant as ending: the page passes to the first live waiter, else it is free.
local function end_grant(record, current, ending, now, queue_grace)
  local waiting = live_places(queue_of(record), now)
  local first = waiting[1]
  if first then return pass_to(record, first, all_but_first(waiting), now, queue_grace, ending) end
  return { fence = record.fence, lock = nil, endings = remember(record.endings, current, ending) }
end
`;

/**
 * A refresh of a live lease by its holder, nearly all of a lock server's traffic, as its own
 * small script with six arguments (the acquire script takes eleven, a fresh token among them):
 * the token is the current grant's and not empty, the holder the same user, the lease live, and
 * no place in the line has lapsed (settling one needs the rules). It decides exactly as
 * `applyAcquire` does for that case: same lock and line, holder text as given,
 * `expiresAt = now + ttl`, the key's expiry moved past the last lease in it. It answers `false`
 * and changes nothing in any other case; the store then runs the acquire script, whose rules
 * decide.
 * ARGV: now ('' = Redis' clock), gcMarginMs, token, holderId, holderJson, ttlMs.
 * Replies `{ clientId, fence, since, acquiredAt, expiresAt, queueJson, now }` (`queueJson` is ''
 * when nobody waits).
 */
export const REFRESH_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
if ARGV[3] == '' then return false end
local f = redis.call('HMGET', KEYS[1], 'token', 'holderId', 'expiresAt', 'queue',
  'clientId', 'fence', 'since', 'acquiredAt')
if f[1] ~= ARGV[3] or f[2] ~= ARGV[4] then return false end
local now, now_text
if ARGV[1] ~= '' then
  now, now_text = tonumber(ARGV[1]), ARGV[1]
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  now_text = string.format('%.0f', now)
end
if not (tonumber(f[3]) > now) then return false end
local expires = now + tonumber(ARGV[6])
local last = expires
if f[4] then
  for _, w in ipairs(cjson.decode(f[4])) do
    local until_ms = tonumber(w.expiresAt)
    if not (until_ms > now) then return false end
    last = math.max(last, until_ms)
  end
end
local expires_text
if expires == math.floor(expires) then
  expires_text = string.format('%.0f', expires)
else
  expires_text = string.format('%.17g', expires)
end
redis.call('HSET', KEYS[1], 'holder', ARGV[5], 'expiresAt', expires_text)
local keep_for = math.max(0, last - now) + tonumber(ARGV[2])
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.max(1, keep_for)))
return { f[5], f[6], f[7], f[8], expires_text, f[4] or '', now_text }
`;

/**
 * Acquire, refresh, resume or reclaim (`applyAcquire`).
 * ARGV: now, gcMarginMs, maxEndings, queueGrace, hasToken ('1' | '0'), token, clientId, holderId,
 * holderJson, newToken, ttlMs. Replies `{ outcome, lock, replaced, ending, now }`.
 */
export const ACQUIRE_SCRIPT = `${PRELUDE}
local input = {
  now = now, has_token = ARGV[5] == '1', token = ARGV[6], client_id = ARGV[7],
  holder_id = ARGV[8], holder = ARGV[9], new_token = ARGV[10], ttl = tonumber(ARGV[11]),
}
local record, moved = settled(read_record(), now, queue_grace)
local current = record.lock
local live = nil
if is_live(current, now) then live = current end
local same_holder = current ~= nil and current.holderId == input.holder_id

if input.has_token then
  -- A grant passed to a waiter has token '': no presented token is ever it.
  if current ~= nil and same_holder and input.token ~= '' and current.token == input.token then
    local lock, next = extend(record, input, false)
    write_record(next)
    if live then return { 'refreshed', lock_reply(lock), {}, '', now_text } end
    return { 'resumed', lock_reply(lock), {}, '', now_text }
  end
  keep(record, moved)
  return { 'dead-token', lock_reply(live), {}, ending_of(record, input.token), now_text }
end

-- A reload of the holding tab gets its own grant back, live or lapsed-but-not-superseded, under
-- a fresh token: the page before the reload may still send a release with the old one. A
-- waiter's tab takes a page that passed to it the same way.
if current ~= nil and same_holder and current.clientId == input.client_id then
  local lock, next = extend(record, input, true)
  write_record(next)
  return { 'reclaimed', lock_reply(lock), {}, '', now_text }
end
if live then
  keep(record, moved)
  return { 'locked', lock_reply(live), {}, '', now_text }
end

local lock, next = grant(record, input, 'expired', nil)
write_record(next)
return { 'granted', lock_reply(lock), lock_reply(current), '', now_text }
`;

/**
 * Release (`applyRelease`). ARGV: now, gcMarginMs, maxEndings, queueGrace, token.
 * Replies `{ outcome, lock, passedTo, now }`.
 */
export const RELEASE_SCRIPT = `${PRELUDE}
local token = ARGV[5]
local stored = read_record()
local before = stored.lock
-- The token being released may be a lapsed grant that settling would pass on: release it first.
if before ~= nil and token ~= '' and before.token == token then
  local next = end_grant(stored, before, 'released', now, queue_grace)
  write_record(next)
  return { 'released', lock_reply(before), lock_reply(next.lock), now_text }
end
local record, moved = settled(stored, now, queue_grace)
keep(record, moved)
if is_live(record.lock, now) then return { 'not-holder', {}, {}, now_text } end
return { 'free', {}, {}, now_text }
`;

/**
 * Take over (`applyTakeOver`). ARGV: now, gcMarginMs, maxEndings, queueGrace, expectedFence,
 * clientId, holderId, holderJson, newToken, ttlMs, expectFree ('1' | '0').
 * Replies `{ outcome, lock, replaced, now }`.
 */
export const TAKE_OVER_SCRIPT = `${PRELUDE}
local input = {
  now = now, expected_fence = tonumber(ARGV[5]), client_id = ARGV[6], holder_id = ARGV[7],
  holder = ARGV[8], new_token = ARGV[9], ttl = tonumber(ARGV[10]), expect_free = ARGV[11] == '1',
}
local record, moved = settled(read_record(), now, queue_grace)
local live = nil
if is_live(record.lock, now) then live = record.lock end
if record.fence ~= input.expected_fence or (input.expect_free and live) then
  keep(record, moved)
  return { 'fence-mismatch', lock_reply(live), {}, now_text }
end
local keep_since = nil
if live and live.holderId == input.holder_id then keep_since = live.since end
local replaced_ending = 'expired'
if live then replaced_ending = 'taken-over' end
local lock, next = grant(record, input, replaced_ending, keep_since)
write_record(next)
return { 'granted', lock_reply(lock), lock_reply(record.lock), now_text }
`;

/**
 * Force release (`applyForceRelease`). ARGV: now, gcMarginMs, maxEndings, queueGrace.
 * Replies the live lock it ended, or an empty array.
 */
export const FORCE_RELEASE_SCRIPT = `${PRELUDE}
local stored = read_record()
local current = stored.lock
if current == nil then return {} end
-- An admin's release is a release, lapsed or not: the old holder is told released.
write_record(end_grant(stored, current, 'released', now, queue_grace))
if is_live(current, now) then return lock_reply(current) end
return {}
`;

/**
 * Ask to edit (`applyAsk`). ARGV: now, gcMarginMs, maxEndings, queueGrace, clientId, holderId,
 * holderJson, waiterId, messageJson (a JSON string or null), renew ('1' | '0'), ttlMs,
 * askTimeoutMs, newToken, maxQueue. Replies `{ outcome, lock, waiter (JSON, or ''), place, now }`.
 */
export const ASK_SCRIPT = `${PRELUDE}
local input = {
  now = now, client_id = ARGV[5], holder_id = ARGV[6], holder = ARGV[7], waiter_id = ARGV[8],
  message = ARGV[9], renew = ARGV[10] == '1', ttl = tonumber(ARGV[11]),
  ask_timeout = tonumber(ARGV[12]), new_token = ARGV[13], max_queue = tonumber(ARGV[14]),
}
local record, moved = settled(read_record(), now, queue_grace)
local current = record.lock
if current and current.holderId == input.holder_id and current.clientId == input.client_id then
  local lock, next = extend(record, input, true)
  write_record(next)
  return { 'reclaimed', lock_reply(lock), '', '', now_text }
end
if not is_live(current, now) then
  keep(record, moved)
  return { 'free', {}, '', '', now_text }
end
if current.holderId == input.holder_id then
  keep(record, moved)
  return { 'self', lock_reply(current), '', '', now_text }
end

local queue = {}
for _, w in ipairs(queue_of(record)) do queue[#queue + 1] = copy(w) end
local waiter, place = nil, 0
for i, w in ipairs(queue) do
  if w.clientId == input.client_id then
    waiter, place = w, i
    break
  end
end
if waiter then
  waiter.expiresAt = number_text(now + input.ttl)
  if not input.renew then
    waiter.request = 'pending'
    waiter.requestExpiresAt = number_text(now + input.ask_timeout)
    waiter.message = input.message
  end
else
  if #queue >= input.max_queue then
    keep(record, moved)
    return { 'queue-full', lock_reply(current), '', '', now_text }
  end
  waiter = {
    id = input.waiter_id,
    userId = input.holder_id,
    user = input.holder,
    clientId = input.client_id,
    askedAt = now_text,
    expiresAt = number_text(now + input.ttl),
    message = input.message,
    request = 'pending',
    requestExpiresAt = number_text(now + input.ask_timeout),
  }
  queue[#queue + 1] = waiter
  place = #queue
end
local lock = with_queue(copy(current), queue)
write_record(with_lock(record, lock))
return { 'queued', lock_reply(lock), cjson.encode(waiter), as_integer(place), now_text }
`;

/**
 * The holder's answer to a waiter (`applyAnswer`). ARGV: now, gcMarginMs, maxEndings,
 * queueGrace, token, waiterId, answer ('hand-over' | 'decline').
 * Replies `{ outcome, lock, replaced, now }`.
 */
export const ANSWER_SCRIPT = `${PRELUDE}
local input = { token = ARGV[5], waiter_id = ARGV[6], answer = ARGV[7] }
local record, moved = settled(read_record(), now, queue_grace)
local current = record.lock
local live = nil
if is_live(current, now) then live = current end
if not live or input.token == '' or live.token ~= input.token then
  keep(record, moved)
  return { 'not-holder', lock_reply(live), {}, now_text }
end
local queue = queue_of(record)
local waiter = nil
local rest = {}
for _, w in ipairs(queue) do
  if waiter == nil and w.id == input.waiter_id then waiter = w else rest[#rest + 1] = w end
end
if not waiter then
  keep(record, moved)
  return { 'not-queued', lock_reply(live), {}, now_text }
end
if input.answer == 'hand-over' then
  local next = pass_to(record, waiter, rest, now, queue_grace, 'handed-over')
  write_record(next)
  return { 'handed-over', lock_reply(next.lock), lock_reply(live), now_text }
end
local answered = {}
for _, w in ipairs(queue) do
  if w == waiter then
    local declined = copy(w)
    declined.request = 'declined'
    answered[#answered + 1] = declined
  else
    answered[#answered + 1] = w
  end
end
local lock = with_queue(copy(live), answered)
write_record(with_lock(record, lock))
return { 'declined', lock_reply(lock), {}, now_text }
`;

/**
 * A waiting tab leaves the line (`applyLeave`). ARGV: now, gcMarginMs, maxEndings, queueGrace,
 * clientId. Replies `{ outcome, lock, now }`.
 */
export const LEAVE_SCRIPT = `${PRELUDE}
local client_id = ARGV[5]
local record, moved = settled(read_record(), now, queue_grace)
local current = record.lock
local rest = {}
local had_place = false
for _, w in ipairs(queue_of(record)) do
  if w.clientId == client_id then had_place = true else rest[#rest + 1] = w end
end
if not current or not had_place then
  keep(record, moved)
  return { 'not-queued', {}, now_text }
end
local lock = with_queue(copy(current), rest)
write_record(with_lock(record, lock))
return { 'left', lock_reply(lock), now_text }
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
