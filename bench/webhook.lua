-- wrk script for bench/webhooks.sh: replays pre-signed Linktree deliveries.
--
-- wrk's Lua has no HMAC, so webhooks.sh signs the requests beforehand and
-- writes one file per wrk thread, <prefix>.<thread>.txt, one delivery a line:
--   <delivery id> TAB <unix seconds> TAB <hex signature> TAB <raw JSON body>
-- Usage: wrk -t N -c C -d D --latency -s bench/webhook.lua URL -- <prefix>
--
-- Each thread sends its own deliveries in order, so every delivery id is new
-- until a thread runs out and starts over (counted as "wrapped"; those repeats
-- are answered {"duplicate":true}). done() prints the answer counts.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
require("replay").install("webhook",
  function(id, ts, sig)
    return {["x-linktree-delivery-id"] = id, ["x-linktree-timestamp"] = ts, ["x-linktree-signature"] = sig}
  end,
  function(status, body, counts)
    if status == 200 and body:find('"received"%s*:%s*true') then
      counts.received = counts.received + 1
    elseif status == 200 and body:find('"duplicate"%s*:%s*true') then
      counts.duplicate = counts.duplicate + 1
    else
      return false
    end
    return true
  end,
  {"received", "duplicate"})
