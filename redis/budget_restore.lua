-- An instance reports back after losing Redis (or finding the shared state lost): it puts every permit it granted
-- in the window into the log and re-registers, in one step. See rate_limit.lua for the whole argument.
--
-- KEYS[1] = the budget log; KEYS[2] = the roster; KEYS[3] = roster details; KEYS[4] = records put back;
-- KEYS[5] = instances that left cleanly. All share the budget's hash tag (one slot, Redis Cluster safe).
-- ARGV[1] = this instance's id
-- ARGV[2] = its local share; ARGV[3] = its own grants in the window
-- ARGV[4] = record lifetime, microseconds
-- ARGV[5] = the budget: the share recorded is at most what the other records leave of it (see heartbeat.lua)
-- ARGV[6] = n: how many permits follow
-- ARGV[7 .. 6+2n] = pairs (epoch microseconds of the permit's grant or completion, its member)
-- then quadruples (id, last report in microseconds, share, grants): the roster as this instance last read it
--
-- Returns {permits restored, records put back, the share recorded for this instance}.
--
-- Atomicity: one script, so no grant is ever decided against a log holding only part of what is restored, and the
-- instance's reservation (it is silent until now) ends in the same step its grants are added.
-- Permits: ZADD GT keeps the later stamp of a permit the log still holds (a shared grant re-stamped at completion)
-- and adds the ones it lost; stamps in the future are clamped to now.
-- Roster: a record missing here (the state was lost) is put back with what its owner last reported, marked as put
-- back: rate_limit.lua then reserves its share and grants and holds new grants until its owner restores too, and
-- refuses the owner any grant before that. Records that lapsed, left cleanly, or are already present are not touched.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local id = ARGV[1]
local lifetime = tonumber(ARGV[4])
local n = tonumber(ARGV[6])
for i = 0, n - 1 do
  local at = tonumber(ARGV[7 + 2 * i])
  if at > now then
    at = now
  end
  redis.call('ZADD', KEYS[1], 'GT', at, ARGV[8 + 2 * i])
end
local putBack = 0
for i = 7 + 2 * n, #ARGV, 4 do
  local rid = ARGV[i]
  local beat = tonumber(ARGV[i + 1])
  if rid ~= id and beat > now - lifetime and not redis.call('ZSCORE', KEYS[2], rid)
      and not redis.call('ZSCORE', KEYS[5], rid) then
    redis.call('ZADD', KEYS[2], math.min(beat, now), rid)
    redis.call('HSET', KEYS[3], rid .. ':s', ARGV[i + 2], rid .. ':u', ARGV[i + 3])
    redis.call('HSET', KEYS[4], rid, now)
    putBack = putBack + 1
  end
end
local share = tonumber(ARGV[2])
local left = tonumber(ARGV[5])
for _, other in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. (now - lifetime), '+inf')) do
  if other ~= id then
    left = left - tonumber(redis.call('HGET', KEYS[3], other .. ':s') or '0')
  end
end
if share > left then
  share = math.max(0, left)
end
redis.call('ZADD', KEYS[2], now, id)
redis.call('HSET', KEYS[3], id .. ':s', share, id .. ':u', ARGV[3])
redis.call('HDEL', KEYS[4], id)
local ttl = math.ceil(lifetime / 1000) * 2
for i = 2, 4 do
  redis.call('PEXPIRE', KEYS[i], ttl)
end
redis.call('PEXPIRE', KEYS[1], ttl)
return {n, putBack, share}
