-- Cluster-wide upstream budget: a sliding-window log with priority lanes, a bounded lane for never-seen names,
-- a shared back-off, and reservations for instances whose own grants the log may not hold.
--
-- KEYS[1] = the budget's log (sorted set: member = permit, score = timestamp in microseconds)
-- KEYS[2] = the shared back-off marker (string: blocked-until, microseconds)
-- KEYS[3] = the instance roster (sorted set: member = instance id, score = its last report, microseconds)
-- KEYS[4] = roster details (hash: "<id>:s" = the instance's local share, "<id>:u" = its own grants in the window
--           at its last report)
-- KEYS[5] = the bounded lane's own log (sorted set, like KEYS[1]; only that lane's permits)
-- KEYS[6] = records put back by another instance after a state loss (hash: id = when), until their owner reports
--           All keys carry the budget's hash tag, so they share one slot and the script works on Redis Cluster.
-- ARGV[1] = limit: permits allowed in any window
-- ARGV[2] = window length in microseconds
-- ARGV[3] = this lane's ceiling: granted only while fewer than this many permits count as used in the window
-- ARGV[4] = a unique member for this permit (instance id + counter)
-- ARGV[5] = the lane's own cap in the window (the never-seen-names share), or -1 when the lane has none
-- ARGV[6] = the caller's instance id
-- ARGV[7] = silence: microseconds without a report after which an instance may be granting itself permits locally
-- ARGV[8] = record lifetime: microseconds after its last report until an instance's record (and reservation) lapses
-- ARGV[9] = hold: microseconds a record put back by another instance blocks every grant while awaiting its owner
-- ARGV[10] = grants horizon: a window plus the longest request, microseconds (how long after a report the grants it
--            reported can still count in a window)
--
-- Returns {granted (1|0), wait_us, used}: used is -1 while the shared back-off is set, -2 when the caller is not in
-- the roster or was put back by another instance (the shared state was lost: the caller must restore its grants
-- with budget_restore.lua before it may be granted more). Also -2 when the caller's own record is older than the
-- silence although the caller is asking here: this master lost its latest reports, and with them perhaps grants (a
-- failover to a copy that was behind), or its reports stopped reaching it; either way its grants go back in first.
-- Counting its own share as reserved instead would deny the caller by itself until its record lapsed, a window.
--
-- Why the budget holds across outages (the argument, with budget_restore.lua and heartbeat.lua):
--  * An instance limits itself locally only after it lost its connection. From `silence` after its last report
--    this script counts the instance's full local share as used, so every permit granted after that leaves room
--    for it. Before that moment the others may have been granted the whole budget, which the cut-off instance
--    cannot see: it grants itself nothing until those permits have left the window, i.e. from `silence` (+ the
--    Redis timeout) + a window + the longest request after the last report it sent (on its own clock, minus
--    nothing: its report reached Redis no earlier than it was sent). In any window holding one of its local
--    permits, every permit of the log was then granted while its share was reserved. An instance stops granting
--    locally `local grant time` after its last report; its record lapses only a window (plus the longest request)
--    after that.
--  * When Redis is reachable again a degraded instance does not simply report: budget_restore.lua adds every
--    permit it granted in the window and re-registers it in one step, so the log never holds neither its
--    reservation nor its grants.
--  * When the state itself was lost (restart without persistence, failover to an empty replica), the first instance
--    to notice puts back every instance it knew, with the share and grants they last reported, marked as put back;
--    such a record reserves share + reported grants and holds every grant for `hold`, time enough for reachable
--    instances to restore their own grants; a caller missing from the roster is refused until it has restored. The
--    reported grants of such a record count only until a window (plus the longest request) after its report: an owner
--    that never restores (it died) then keeps only its share reserved, for the rest of the record's lifetime.
--  * A grant needs used + reserved < ceiling, both counted here in one atomic step. A lower lane's ceiling (below the
--    limit) applies to what the reservations leave: reserved + floor(ceiling * (limit - reserved) / limit). Measured
--    against the whole budget, one silent instance of two (half the budget reserved) filled the background lane's
--    ceiling by itself, and nothing was revalidated for as long as its reservation lasted. The limit itself stays whole.
-- The only clock is the Redis server's TIME (allowed since Redis 5: scripts replicate as effects). Because the log
-- keeps every permit of the last window, the cap holds in every rolling window, not just aligned ones.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local ceiling = tonumber(ARGV[3])
local laneCap = tonumber(ARGV[5])
local silence = tonumber(ARGV[7])
local lifetime = tonumber(ARGV[8])
local hold = tonumber(ARGV[9])
local horizon = tonumber(ARGV[10])

local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return {0, blocked - now, -1}
end
local own = redis.call('ZSCORE', KEYS[3], ARGV[6])
if not own or tonumber(own) < now - silence or redis.call('HEXISTS', KEYS[6], ARGV[6]) == 1 then
  return {0, 0, -2}
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])

-- Reservations: silent instances (their local share) and records put back after a loss (share + reported grants).
local reserved = 0
local holdWait = 0
local lapseWait = window
local silent = redis.call('ZRANGEBYSCORE', KEYS[3], now - lifetime, now - silence, 'WITHSCORES')
local counted = {}
for i = 1, #silent, 2 do
  local id = silent[i]
  counted[id] = true
  reserved = reserved + tonumber(redis.call('HGET', KEYS[4], id .. ':s') or '0')
  local lapse = tonumber(silent[i + 1]) + lifetime - now
  if lapse < lapseWait then
    lapseWait = lapse
  end
end
if redis.call('HLEN', KEYS[6]) > 0 then
  local putBack = redis.call('HGETALL', KEYS[6])
  for i = 1, #putBack, 2 do
    local id = putBack[i]
    local at = putBack[i + 1]
    local beat = redis.call('ZSCORE', KEYS[3], id)
    if beat and tonumber(beat) >= now - lifetime then
      if not counted[id] then
        reserved = reserved + tonumber(redis.call('HGET', KEYS[4], id .. ':s') or '0')
      end
      -- Its reported grants were made before its last report: they count only while they can still be in the window.
      if tonumber(beat) >= now - horizon then
        reserved = reserved + tonumber(redis.call('HGET', KEYS[4], id .. ':u') or '0')
      end
      local left = tonumber(at) + hold - now
      if left > holdWait then
        holdWait = left
      end
    end
  end
end
local effective = used + reserved
if ceiling < limit and reserved > 0 then
  ceiling = reserved + math.floor(ceiling * math.max(0, limit - reserved) / limit)
end
if holdWait > 0 then
  return {0, holdWait, effective}
end

-- Time until a log holding `size` permits holds fewer than `allowed`: when its (size - allowed + 1)-th oldest
-- entry leaves the window; `otherwise` when nothing is allowed at all.
local function refused(key, size, allowed, otherwise)
  local wait = otherwise
  if allowed > 0 then
    local oldest = redis.call('ZRANGE', key, size - allowed, size - allowed, 'WITHSCORES')
    if oldest[2] then
      wait = tonumber(oldest[2]) + window - now
    end
  end
  if wait < 1 then
    wait = 1
  end
  return {0, wait, effective}
end

-- What the reservations leave of the ceiling is for the log; if they leave nothing, wait until the first lapses, but
-- no longer than the silence: a silent instance may report again at any heartbeat (after an outage the others
-- restore a moment after the first one back), and the caller remembers the wait as a denial.
if effective >= ceiling then
  return refused(KEYS[1], used, ceiling - reserved, math.min(lapseWait, silence))
end

if laneCap >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - window)
  local laneUsed = redis.call('ZCARD', KEYS[5])
  if laneUsed >= laneCap then
    return refused(KEYS[5], laneUsed, laneCap, window)
  end
  redis.call('ZADD', KEYS[5], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[5], math.ceil(window / 1000) + 1000)
end

redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
return {1, 0, effective + 1}
