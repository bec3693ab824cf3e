-- Mark an operation as in flight just before its upstream call (mark-then-call).
--
-- KEYS[1] the job's lease, KEYS[2] its in-flight hash (bg:job:{bg}:<id>:inflight: index -> holder that called),
-- KEYS[3] its results hash
-- ARGV[1] this instance's owner token, ARGV[2] operation index
-- Returns {ok, previous holder or ""}: ok = 0 when this instance no longer holds the lease (it must stop), or the
-- operation already has a result; else 1, with the holder that had already called for it (a restart mid-call),
-- which tells the caller this call may be a repeat: it is sent with the same Idempotency-Key, and a delete that
-- finds the link gone is then the earlier call's success.
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then
  return {0, ''}
end
local previous = redis.call('HGET', KEYS[2], ARGV[2]) or ''
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return {1, previous}
