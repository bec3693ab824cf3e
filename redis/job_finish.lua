-- Close a link batch job whose every operation has a result: state 'done', lease dropped.
--
-- KEYS[1] the job's lease, KEYS[2] the job hash, KEYS[3] its results hash
-- ARGV[1] owner token, ARGV[2] now (epoch ms)
-- Returns 1 when closed by this call, 0 otherwise (lease lost, or results missing).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local total = tonumber(redis.call('HGET', KEYS[2], 'total') or '-1')
if redis.call('HLEN', KEYS[3]) ~= total then
  return 0
end
redis.call('HSET', KEYS[2], 'state', 'done', 'finished', ARGV[2])
redis.call('DEL', KEYS[1])
return 1
