-- The one write path of a profile's shared copy (L2): upstream fetches, webhook patches and purges all come here.
-- KEYS[1] = the copy (bg:profile:{u}), KEYS[2] = its version (bg:profile:{u}:version), KEYS[3] = when the changes
-- applied to it were made (bg:profile:{u}:changes, a hash: part -> epoch ms); one hash tag, one slot.
-- ARGV[1] = fetch | patch | purge
-- ARGV[2] = the version the writer read before it started (fetch: before calling the upstream; patch: with the
--           copy it changed); ignored by purge
-- ARGV[3] = the encoded copy (fetch, patch)        ARGV[4] = the copy's TTL, ms (fetch, patch)
-- ARGV[5] = the version's TTL, ms (longer than any copy's and any fetch's lifetime)
-- ARGV[6] = the invalidation channel              ARGV[7] = "<writer id> <username>"
-- ARGV[8] = how long change times are kept, ms
-- ARGV[9], ARGV[10], ... = the webhook changes the write carries, in pairs: the part of the profile a change applies
--           to ("profile", "link:<id>") and when it was made, epoch ms; none for fetches, an operator's purge and
--           changes without a time. Several changes queued for one profile are written together, in their order.
-- Returns {1, new version} when written, {0, current version} when refused, {2, current version, i, ...} when change
-- i (1-based pair number; one or more) is older than one already written to the same part: nothing is written, the
-- caller skips those changes and writes the others again.
--
-- Why a fetch can never overwrite a newer change: every accepted write moves the version, and a fetch or patch is
-- accepted only if the version is still the one it read before it began. A webhook that lands while a fetch is in
-- flight moves it (a patch stores the changed copy; a purge deletes the copy and leaves only the version, a
-- tombstone), so the older fetch is refused and the next read fetches the current profile. The compare and the
-- write run in one script: nothing can write between them.
--
-- Why an older change never overwrites a newer one: the version only says that nothing was written since the writer
-- read; two changes handled at the same moment (on two instances, or one) both pass it in turn, the second reading
-- the first one's copy. So the time of the newest change written to each part is kept next to the copy and checked
-- in the same step as the write: an older change is refused for good, however it interleaved with the newer one,
-- and a change made at the same time as the newest one is applied (a redelivery of it changes nothing). The times
-- outlive the copy (a link deleted while nothing was cached must not come back with a late link.created).
--
-- Versions are max(current + 1, Redis time in microseconds): strictly increasing per profile, and never reused
-- even if the version key expires (it lives longer than any copy, so that only happens to idle profiles).
-- Every accepted write tells every instance (pub/sub) that L1 copies older than the new version are out of date.
redis.replicate_commands()
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
local older = {2, string.format('%.0f', current)}
for i = 9, #ARGV - 1, 2 do
  local newest = tonumber(redis.call('HGET', KEYS[3], ARGV[i]) or '-1')
  if tonumber(ARGV[i + 1]) < newest then
    older[#older + 1] = (i - 7) / 2
  end
end
if #older > 2 then
  return older
end
if ARGV[1] ~= 'purge' and current ~= tonumber(ARGV[2]) then
  return {0, string.format('%.0f', current)}
end
local t = redis.call('TIME')
local version = string.format('%.0f', math.max(current + 1, tonumber(t[1]) * 1000000 + tonumber(t[2])))
if ARGV[1] == 'purge' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
redis.call('SET', KEYS[2], version, 'PX', ARGV[5])
for i = 9, #ARGV - 1, 2 do
  -- In order: a later change to the same part is never older than an earlier one in the same write (the caller
  -- skips such a change before it writes), so the newest time is the one left.
  local added = redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[3], ARGV[8])
  -- The hash lives as long as changes keep coming, one field per part ever changed (each link id): past 256 parts,
  -- at every 64th new one, the times older than their memory are dropped (no retry that old can arrive any more).
  -- A profile with more recent parts than that keeps them all; the scan runs once per 64 new parts.
  if added == 1 then
    local n = redis.call('HLEN', KEYS[3])
    if n > 256 and n % 64 == 0 then
      local cutoff = tonumber(t[1]) * 1000 - tonumber(ARGV[8])
      local all = redis.call('HGETALL', KEYS[3])
      for j = 1, #all, 2 do
        if tonumber(all[j + 1]) < cutoff then
          redis.call('HDEL', KEYS[3], all[j])
        end
      end
    end
  end
end
redis.call('PUBLISH', ARGV[6], ARGV[7] .. ' ' .. version)
return {1, version}
