-- wrk script for bench/clicks.sh: redirects at a paced rate. Each connection waits
-- DELAY_MS after each answer, so the offered rate is about CONNECTIONS * 1000 / (DELAY_MS
-- + latency); clicks.sh measures the achieved rate from the gateway's own counters.
-- Usage: wrk ... -s bench/clicks.lua URL -- DELAY_MS LINKS
function init(args)
  pause = tonumber(args[1] or "10")
  links = tonumber(args[2] or "25")
  n = 0
end

function delay()
  return pause
end

function request()
  n = n + 1
  return wrk.format("GET", string.format("/r/demo/lnk_demo_%02d", (n % links) + 1))
end
