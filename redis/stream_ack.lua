-- Acknowledge finished entries (their handler answered DONE) for one consumer group: every entry finished in the
-- same event-loop turn in one call, with what each handler did noted on its history.
--
-- KEYS[1] the stream, KEYS[2] the group's attempt counters (hash: entry id -> failed attempts), then, in entry order,
-- the history hash of each entry that has one
-- ARGV[1] consumer group, ARGV[2] now (epoch ms), ARGV[3] '1' when this group is the stream's only reader, so an
-- entry can be deleted at once (the stream then only ever holds unfinished work); then, for each entry: its id, '1'
-- when it has a history hash in KEYS (else '0'), the number n of note arguments, then n field/value arguments (what
-- the handler did: handler, result, skipped)
-- Returns, per entry in order, 1 when this call acknowledged it, 0 when it was no longer pending (already
-- acknowledged).
--
-- Atomicity: for each entry XACK, XDEL, the counter and the history change together, so the admin API never shows
-- "handled" for an entry still pending, nor without what its handler did. XACK is the first write; nothing after it
-- can be refused. A history that ingestion did not create (it expired) is not recreated: it would have no expiry.
-- Every key shares the stream's hash tag (one Cluster slot).
local out = {}
local k = 3
local a = 4
while a <= #ARGV do
  local id = ARGV[a]
  local hasHistory = ARGV[a + 1] == '1'
  local n = tonumber(ARGV[a + 2])
  local acked = redis.call('XACK', KEYS[1], ARGV[1], id)
  if ARGV[3] == '1' then
    redis.call('XDEL', KEYS[1], id)
  end
  redis.call('HDEL', KEYS[2], id)
  if hasHistory then
    local history = KEYS[k]
    k = k + 1
    if acked == 1 and redis.call('EXISTS', history) == 1 then
      redis.call('HINCRBY', history, 'attempts', 1)
      redis.call('HSET', history, 'outcome', 'handled', 'handled_at', ARGV[2], unpack(ARGV, a + 3, a + 2 + n))
    end
  end
  out[#out + 1] = acked
  a = a + 3 + n
end
return out
