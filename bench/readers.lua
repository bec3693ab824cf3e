-- wrk script for bench/ab.sh (WRK_SCRIPT=bench/readers.lua): GET the URL, every request from a reader of its own
-- (X-Forwarded-For through a trusted loopback proxy, as bench/clicks.json configures), as a viral page is read.
-- Thread t's readers are (100+t).x.y.z, x.y.z counting up: 16.7 million distinct addresses per thread.
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  n = 0
end

function request()
  n = n + 1
  local ip = string.format("%d.%d.%d.%d", 100 + id % 100, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format(nil, nil, {["X-Forwarded-For"] = ip})
end
