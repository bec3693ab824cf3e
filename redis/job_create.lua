-- Store a new link batch job: its description and every operation, in one step.
--
-- KEYS[1] the job hash (bg:job:{<id>}), KEYS[2] its operations hash (bg:job:{<id>}:ops: index -> operation JSON)
-- ARGV[1] job id, ARGV[2] username, ARGV[3] created (epoch ms), ARGV[4] time to live (seconds),
-- ARGV[5..] the operations as JSON, in order (index 0 first)
--
-- Both keys carry the job's own hash tag, so on Redis Cluster each job lives in one slot and jobs spread over the
-- cluster. The script writes both or (failing on its first write, e.g. OOM) neither. The job only runs once its id
-- is also added to the active set (bg:jobs:{bg}:active, another slot): the caller does that next and answers 202
-- only when it succeeded; a job whose id never got there expires unrun, and its submitter was answered 503.
local n = #ARGV - 4
local args = {}
for i = 1, n do
  args[2 * i - 1] = tostring(i - 1)
  args[2 * i] = ARGV[4 + i]
end
redis.call('HSET', KEYS[2], unpack(args))
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'username', ARGV[2], 'created', ARGV[3], 'total', n, 'applied', 0,
  'failed', 0, 'state', 'queued')
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return n
