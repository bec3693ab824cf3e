-- wrk script for bench/memory.sh: GET /v1/profiles/synth-<i> over PROFILES distinct
-- generated profiles. Mode "sweep" (default): thread t of T asks for t, t+T, t+2T, ...
-- and starts over at the end (so misses that were refused are asked again).
-- Mode "random": uniformly random profiles (reads spread over the whole cache).
-- Usage: wrk -tT ... -s bench/profiles.lua URL -- PROFILES [sweep|random] T
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  profiles = tonumber(args[1] or "100000")
  mode = args[2] or "sweep"
  step = tonumber(args[3] or "1")
  nextIndex = id
  math.randomseed(os.time() + id * 7919)
end

function request()
  local i
  if mode == "random" then
    i = math.random(0, profiles - 1)
  else
    i = nextIndex
    nextIndex = nextIndex + step
    if nextIndex >= profiles then nextIndex = id end
  end
  return wrk.format("GET", "/v1/profiles/synth-" .. i)
end
