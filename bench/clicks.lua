-- wrk script for bench/clicks.sh: redirects at a paced rate. Each connection waits
-- DELAY_MS after each answer, so the offered rate is about CONNECTIONS * 1000 / (DELAY_MS
-- + latency); clicks.sh measures the achieved rate from the gateway's own counters.
-- Every request comes from a different reader (X-Forwarded-For through the trusted loopback
-- proxy of bench/clicks.json, a browser User-Agent), so every redirect is a click to count.
-- With CREATORS (bench/mixed.sh) the clicks go round the generated creators synth-0 .. synth-<CREATORS-1> and their
-- links lnk_synth-<c>_01 .. _LINKS instead of demo's.
-- Usage: wrk ... -s bench/clicks.lua URL -- DELAY_MS LINKS [CREATORS]
function init(args)
  pause = tonumber(args[1] or "10")
  links = tonumber(args[2] or "25")
  creators = tonumber(args[3] or "0")
  n = 0
  -- wrk runs one Lua state per thread: a per-thread seed keeps the threads' readers apart.
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  base = math.random(0, 127)
end

function delay()
  return pause
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
