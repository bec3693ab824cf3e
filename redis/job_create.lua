-- Store a new link batch job (its description and every operation) and list it as active, in one step.
--
-- KEYS[1] the job hash (bg:job:{bg}:<id>), KEYS[2] its operations hash (bg:job:{bg}:<id>:ops: index -> operation
-- JSON), KEYS[3] the active set (bg:jobs:{bg}:active)
-- ARGV[1] job id, ARGV[2] username, ARGV[3] created (epoch ms), ARGV[4] time to live (seconds),
-- ARGV[5] the most jobs active at once, ARGV[6] the digest of the submitted batch, ARGV[7..] the operations as JSON,
-- in order (index 0 first)
-- Returns the number of operations; -1 (nothing written) when ARGV[5] jobs are already active; -2 when this job
-- already exists with the same digest (a retry under the same Idempotency-Key: nothing written, the job stands);
-- -3 when it exists with another digest (the key was used for another batch; nothing written).
--
-- Every key shares one slot ({bg}), so on Redis Cluster this is one script on one master, and the WAIT the caller
-- sends after it on the same connection covers the job and its listing together: the submitter is answered 202 only
-- once a replica holds both (where the master has one). The script writes all three or (failing on its first write,
-- e.g. OOM) none; checking the ceiling and listing the job are one step, so concurrent submissions cannot pass it.
local digest = redis.call('HGET', KEYS[1], 'digest')
if digest then
  if digest == ARGV[6] then
    return -2
  end
  return -3
end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[5]) then
  return -1
end
local n = #ARGV - 6
local args = {}
for i = 1, n do
  args[2 * i - 1] = tostring(i - 1)
  args[2 * i] = ARGV[6 + i]
end
redis.call('HSET', KEYS[2], unpack(args))
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'username', ARGV[2], 'created', ARGV[3], 'total', n, 'applied', 0,
  'failed', 0, 'state', 'queued', 'digest', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[1])
return n
