-- Release a fetch lock only if we still own it.
-- KEYS[1] = lock key, ARGV[1] = the owner token written by SET NX PX.
--
-- Atomicity: GET and DEL run inside one script, so no other client can take the lock between the ownership
-- check and the delete. A plain DEL could remove a lock another instance acquired after ours expired.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
