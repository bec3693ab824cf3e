-- wrk script for bench/clicks.sh: redirects at a paced rate. Each connection waits a pause
-- after each answer, so the offered rate is about CONNECTIONS * 1000 / (pause + latency).
-- With a TARGET (requests per second for this wrk thread) the pause is steered once a second
-- towards it: latency is unknown beforehand, and a fixed pause offered less than asked as soon
-- as answers took a millisecond or two. wrk takes whole milliseconds, so a fractional pause is
-- spread over requests (9.4 ms = 9, 9, 10, 9, 10, ...). clicks.sh measures the achieved rate from
-- the gateway's own counters.
-- Every request comes from a different reader (X-Forwarded-For through the trusted loopback
-- proxy of bench/clicks.json, a browser User-Agent), so every redirect is a click to count.
-- With CREATORS (bench/mixed.sh) the clicks go round the generated creators synth-0 .. synth-<CREATORS-1> and their
-- links lnk_synth-<c>_01 .. _LINKS instead of demo's.
-- Usage: wrk ... -s bench/clicks.lua URL -- PAUSE_MS LINKS [CREATORS [TARGET]]
function init(args)
  pause = tonumber(args[1] or "10")
  links = tonumber(args[2] or "25")
  creators = tonumber(args[3] or "0")
  target = tonumber(args[4] or "0")
  n = 0
  carry = 0
  second = os.time()
  sent_at_second = 0
  primed = false
  -- wrk runs one Lua state per thread: a per-thread seed keeps the threads' readers apart.
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  base = math.random(0, 127)
end

-- Once a new second starts, scale the pause by how far the last one's rate was from the target
-- (at most a quarter either way per second, so one slow second does not swing it).
local function steer()
  local now = os.time()
  if now == second then return end
  local sent = (n - sent_at_second) / (now - second)
  -- The first second was only partly this thread's: it starts the count, it does not steer.
  if primed and sent > 0 then
    local factor = math.max(0.75, math.min(1.25, sent / target))
    pause = math.max(0.05, math.min(1000, pause * factor))
  end
  second = now
  sent_at_second = n
  primed = true
end

function delay()
  if target <= 0 then return pause end
  steer()
  carry = carry + pause
  local whole = math.floor(carry)
  carry = carry - whole
  return whole
end

function request()
  n = n + 1
  local reader = string.format("10.%d.%d.%d", (base + math.floor(n / 65536)) % 256, math.floor(n / 256) % 256, n % 256)
  local path
  if creators > 0 then
    local c = math.floor(n / links) % creators
    path = string.format("/r/synth-%d/lnk_synth-%d_%02d", c, c, (n % links) + 1)
  else
    path = string.format("/r/demo/lnk_demo_%02d", (n % links) + 1)
  end
  return wrk.format("GET", path, {
    ["X-Forwarded-For"] = reader,
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) bench-reader"
  })
end
