-- wrk script for bench/klaviyo.sh: replays pre-signed Klaviyo batches.
--
-- klaviyo.sh signs the batches beforehand (wrk's Lua has no HMAC) and writes one file per wrk thread,
-- <prefix>.<thread>.txt, one batch a line:
--   <unix seconds> TAB <hex signature> TAB <webhook id> TAB <raw JSON body>
-- Usage: wrk -t N -c C -d D --latency -s bench/klaviyo.lua URL -- <prefix>
--
-- done() prints how many batches were answered 200 and the sums of their "received" and "duplicates" counts
-- (a thread that runs out of batches starts over: those repeats come back as duplicates).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
require("replay").install("klaviyo",
  function(ts, sig, hook)
    return {["Klaviyo-Timestamp"] = ts, ["Klaviyo-Signature"] = sig, ["Klaviyo-Webhook-Id"] = hook}
  end,
  function(status, body, counts)
    local r, d = body:match('"received"%s*:%s*(%d+)%s*,%s*"duplicates"%s*:%s*(%d+)')
    if status ~= 200 or not r then
      return false
    end
    counts.batches = counts.batches + 1
    counts["events received"] = counts["events received"] + tonumber(r)
    counts["events duplicate"] = counts["events duplicate"] + tonumber(d)
    return true
  end,
  {"batches", "events received", "events duplicate"})
