-- wrk script for bench/memory.sh and bench/mixed.sh: GET /v1/profiles/synth-<i> over PROFILES distinct
-- generated profiles. Mode "sweep" (default): thread t of T asks for t, t+T, t+2T, ...
-- and starts over at the end (so misses that were refused are asked again).
-- Mode "random": uniformly random profiles (reads spread over the whole cache).
-- Mode "mixed" (bench/mixed.sh): HOT_PCT % of the reads go to a random one of the HOT popular creators synth-0 ..
-- synth-<HOT-1> (cached), the rest to a random one of the others (mostly never read before: misses); every read
-- comes from a reader of its own (X-Forwarded-For through a trusted loopback proxy), as on a real page.
-- WRK_DELAY_MS (environment) > 0: each connection pauses that long after each answer (paced load).
-- Usage: wrk -tT ... -s bench/profiles.lua URL -- PROFILES [sweep|random|mixed] T [HOT HOT_PCT]
local threads = {}
local counter = 0

package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
require("pace")   -- WRK_DELAY_MS: paced load

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  profiles = tonumber(args[1] or "100000")
  mode = args[2] or "sweep"
  step = tonumber(args[3] or "1")
  hot = tonumber(args[4] or "0")
  hotPct = tonumber(args[5] or "100")
  nextIndex = id
  n = 0
  math.randomseed(os.time() + id * 7919)
  if mode == "mixed" and (hot < 1 or hot >= profiles) then
    error("mode mixed needs 1 <= HOT < PROFILES")
  end
end

function request()
  local i
  if mode == "random" then
    i = math.random(0, profiles - 1)
  elseif mode == "mixed" then
    n = n + 1
    if math.random() * 100 < hotPct then
      i = math.random(0, hot - 1)
    else
      i = math.random(hot, profiles - 1)
    end
    -- Readers 172.16.0.0/12, apart per thread: each its own client to the gateway's per-client quotas.
    local reader = string.format("172.%d.%d.%d", 16 + (id + math.floor(n / 65536)) % 16, math.floor(n / 256) % 256, n % 256)
    return wrk.format("GET", "/v1/profiles/synth-" .. i, {["X-Forwarded-For"] = reader})
  else
    i = nextIndex
    nextIndex = nextIndex + step
    if nextIndex >= profiles then nextIndex = id end
  end
  return wrk.format("GET", "/v1/profiles/synth-" .. i)
end
