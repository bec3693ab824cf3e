-- Take or renew the lease on a link batch job: whoever holds it is the only instance applying the job's operations.
--
-- KEYS[1] the job's lease (bg:job:{bg}:<id>:lease), KEYS[2] the job hash (bg:job:{bg}:<id>)
-- ARGV[1] this instance's owner token, ARGV[2] lease length (ms), ARGV[3] now (epoch ms)
-- Returns 1 when this instance holds the lease (taken or renewed), 0 when another does, -1 when the job is gone
-- (expired) or finished.
--
-- Atomicity: checking the holder and (re)setting the lease are one step, so two instances can never both take an
-- expired lease. A holder that stalls past the lease loses it; its later writes are fenced by job_mark.lua and
-- job_record.lua, which check the lease too.
local state = redis.call('HGET', KEYS[2], 'state')
if not state or state == 'done' then
  return -1
end
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if state == 'queued' then
  redis.call('HSET', KEYS[2], 'state', 'running', 'started', ARGV[3])
end
if not holder then
  redis.call('HINCRBY', KEYS[2], 'leases', 1)
end
return 1
