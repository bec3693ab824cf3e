-- Counts one Klaviyo system-webhook event by its topic, once. An entry can be handled again: an instance that dies
-- after counting it and before acknowledging it leaves it to another, which takes it over; the marker makes that
-- second handling count nothing. The hash keeps at most ARGV[3] topics: an event of a topic not among them once
-- that many are counted is counted under 'other' (topics come from the sender, and the hash never expires: one
-- signed batch of made-up topics added 1,000 fields for good).
--
-- KEYS[1] = the topics hash (bg:wh:{bg}:klaviyo:topics)
-- KEYS[2] = this event's marker (bg:wh:{bg}:klaviyo:counted:<delivery id>), same hash tag
-- ARGV[1] = the topic
-- ARGV[2] = how long to remember the event, milliseconds (longer than an entry can wait to be taken over)
-- ARGV[3] = the most topics kept
--
-- Returns 1 when the event is counted now, 0 when it had been counted before.
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then
  local topic = ARGV[1]
  if redis.call('HEXISTS', KEYS[1], topic) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
    topic = 'other'
  end
  redis.call('HINCRBY', KEYS[1], topic, 1)
  return 1
end
return 0
