-- One outbound destination's pace, shared by every instance: a token bucket.
--
-- KEYS[1] the destination's bucket (hash: tokens, ts), bg:out:rate:{<destination>}: the destination's own hash tag,
--         so each destination's bucket lives in one slot and buckets spread over a Cluster
-- ARGV[1] rate: tokens added per second (the destination's ratePerSec)
-- ARGV[2] burst: the most tokens the bucket holds (at least 1)
-- ARGV[3] now, epoch milliseconds (the caller's clock; a bucket never refills backwards when clocks disagree)
-- Returns {granted (1|0), wait_ms}: wait_ms is how long until the next token: the one this caller waits for when none
-- was granted, the one after this caller's when one was (0: another is there now), so a caller with deliveries waiting
-- knows when to ask again instead of asking every few milliseconds.
--
-- Atomicity: read, refill, take and write are one step, so two instances can never both take the last token; over
-- any interval of t seconds at most burst + rate * t deliveries start, however many instances send.
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local granted = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  granted = 1
end
if tokens < 1 then
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
return {granted, wait}
