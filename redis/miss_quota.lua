-- One client's quota of misses for names the gateway has never seen: a token bucket, cluster-wide.
--
-- KEYS[1] = the client's bucket (hash: t = tokens, at = last update in microseconds), tagged by the client key,
--           e.g. bg:missq:{203.0.113.7}; one key, so the script works on Redis Cluster.
-- ARGV[1] = burst (bucket size); ARGV[2] = refill, tokens per second; ARGV[3] (optional) = a charge: that many
--           tokens are taken whatever the bucket holds (a name the client asked for did not exist), the bucket going
--           into debt down to -3 x the charge, which the refill pays back first
--
-- Returns {allowed (1|0), wait_us}: wait_us is the time until the next token when refused ({1, 0} for a charge).
-- Atomicity: refill, take and store are one step, so concurrent misses of one client on any number of instances
-- never take the same token twice. Memory: one small hash per client that missed recently; it expires when it
-- would be full again, so an idle client costs nothing. Clock: Redis TIME only.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local burst = tonumber(ARGV[1])
local perUs = tonumber(ARGV[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1] or burst)
local at = tonumber(state[2] or now)
if perUs > 0 then
  tokens = math.min(burst, tokens + (now - at) * perUs)
end
local allowed = 0
local wait = 0
local charge = tonumber(ARGV[3] or '0')
if charge > 0 then
  tokens = math.max(tokens - charge, -3 * charge)
  allowed = 1
elseif tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
elseif perUs > 0 then
  wait = math.ceil((1 - tokens) / perUs)
else
  wait = 60000000
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', now)
local fullIn = 60000
if perUs > 0 then
  fullIn = math.ceil((burst - tokens) / perUs / 1000) + 1000
end
redis.call('PEXPIRE', KEYS[1], fullIn)
return {allowed, wait}
