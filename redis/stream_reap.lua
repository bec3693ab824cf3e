-- Takes over the pending entries of consumers whose instance is dead, and removes those consumers once they own
-- nothing; also takes over entries a live consumer has left idle for ARGV[5] ms (it keeps them without attempting,
-- e.g. its receiver refuses its key: stream_touch.lua leaves such entries idle so a consumer that can handle them
-- takes them). Finally takes back this consumer's own entries idle for ARGV[6] ms: a read whose reply never arrived
-- (it timed out, or its connection was replaced under it) leaves its entries pending under the reader, which never
-- sees them otherwise. The caller ignores those it holds (kept entries, left idle for others to take first) and
-- passes twice ARGV[5], or less for a while after one of its reads failed.
--
-- KEYS[1] the stream, KEYS[2] the group's heartbeats (see stream_beat.lua)
-- ARGV[1] consumer group, ARGV[2] this consumer, ARGV[3] heartbeat TTL (ms), ARGV[4] at most this many entries,
-- ARGV[5] idle time after which a live consumer's entry is taken over (ms)
-- ARGV[6] idle time after which this consumer's own entries are taken back (ms)
-- Returns {claimed entries (XCLAIM form), ids that were pending but are gone from the stream, consumers removed}.
--
-- A consumer is dead when its last beat is older than the TTL (a clean stop stamps 0: at once), or when it never
-- beat and Redis has not heard from it for the TTL either (an instance of an older version, or one that died
-- between its first read and its first beat; a live instance beats before it reads), and Redis has not heard from it
-- for the TTL either (a live instance whose beats are late still reads). Only a reaper that has itself beaten without
-- a gap for the TTL, and lately (within half of it), judges (see stream_beat.lua): after an outage or a failover every
-- beat is stale, and a live instance that is back but has not beaten yet may be sending an entry it owns. Until then
-- the reaper takes back only its own entries.
-- Atomicity: finding, claiming and deleting run as one step, so an entry can never be dropped with its consumer
-- (XGROUP DELCONSUMER discards the consumer's pending entries) and two reapers never claim the same entry.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
local room = tonumber(ARGV[4])
local idle = tonumber(ARGV[5])
local ownIdle = tonumber(ARGV[6] or (2 * idle))
local claimed, lost, removed = {}, {}, 0

-- Claims the given pending ids for this consumer (only those still idle for minIdle); returns how many were pending.
local function claim(ids, minIdle)
  if #ids == 0 then
    return 0
  end
  local got = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], minIdle, unpack(ids))
  local present = {}
  for _, e in ipairs(got) do
    if e then
      present[e[1]] = true
      claimed[#claimed + 1] = e
    end
  end
  if minIdle == 0 then
    for _, id in ipairs(ids) do
      if not present[id] then
        -- Deleted from the stream while pending (trimmed by hand, or by a version that capped the stream):
        -- reported to the caller, which logs and counts it.
        lost[#lost + 1] = id
        redis.call('XACK', KEYS[1], ARGV[1], id)
      end
    end
  end
  return #ids
end

-- Claims up to `room` of consumer `name`'s pending entries idle for at least minIdle ms. XCLAIM's own min-idle check
-- makes the take-over atomic with the idle test.
local function claimIdle(name, minIdle)
  local ids = {}
  for i, row in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', minIdle, '-', '+', room, name)) do
    ids[i] = row[1]
  end
  room = room - claim(ids, minIdle)
end

-- Whether this reaper may judge other consumers: read once, and only when there is another consumer to judge (an
-- idle stream has none, and this was two reads per reap for nothing).
local judging
local function judges()
  if judging == nil then
    local ownBeat = redis.call('ZSCORE', KEYS[2], ARGV[2])
    local since = redis.call('ZSCORE', KEYS[2], 'since:' .. ARGV[2])
    judging = ownBeat ~= false and tonumber(ownBeat) >= now - ttl / 2 and since ~= false and tonumber(since) <= now - ttl
  end
  return judging
end

local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then
  return {claimed, lost, removed}
end
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do
    info[c[i]] = c[i + 1]
  end
  local name = info['name']
  if name == ARGV[2] then
    if tonumber(info['pending']) > 0 and room > 0 then
      claimIdle(name, ownIdle)
    end
  elseif judges() then
    local beat = redis.call('ZSCORE', KEYS[2], name)
    local dead
    if beat then
      dead = tonumber(beat) == 0 or (tonumber(beat) < now - ttl and tonumber(info['idle']) > ttl)
    else
      dead = tonumber(info['idle']) > ttl
    end
    if dead then
      local pending = tonumber(info['pending'])
      if pending > 0 and room > 0 then
        local ids = {}
        for i, row in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', room, name)) do
          ids[i] = row[1]
        end
        local n = claim(ids, 0)
        room = room - n
        pending = pending - n
      end
      if pending <= 0 then
        redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
        redis.call('ZREM', KEYS[2], name, 'since:' .. name)
        removed = removed + 1
      end
    elseif tonumber(info['pending']) > 0 and room > 0 then
      claimIdle(name, idle)
    end
  end
end
return {claimed, lost, removed}
