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

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local prefix = args[1]
  if prefix == nil then
    error("usage: wrk ... -s webhook.lua URL -- <request file prefix>")
  end
  local file = prefix .. "." .. thread_id .. ".txt"
  requests = {}
  for line in io.lines(file) do
    local id, ts, sig, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.+)$")
    if id then
      requests[#requests + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["x-linktree-delivery-id"] = id,
        ["x-linktree-timestamp"] = ts,
        ["x-linktree-signature"] = sig,
      }, body)
    end
  end
  if #requests == 0 then
    error("no signed requests in " .. file)
  end
  index = 0
  wrapped = 0
  received = 0
  duplicate = 0
  other = 0
  first_other = ""
end

function request()
  index = index + 1
  if index > #requests then
    index = 1
    wrapped = wrapped + 1
  end
  return requests[index]
end

function response(status, headers, body)
  if status == 200 and body:find('"received"%s*:%s*true') then
    received = received + 1
  elseif status == 200 and body:find('"duplicate"%s*:%s*true') then
    duplicate = duplicate + 1
  else
    other = other + 1
    if first_other == "" then
      first_other = status .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local r, d, o, w, example = 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    r = r + (t:get("received") or 0)
    d = d + (t:get("duplicate") or 0)
    o = o + (t:get("other") or 0)
    w = w + (t:get("wrapped") or 0)
    if example == "" then
      example = t:get("first_other") or ""
    end
  end
  io.write(string.format("webhook received: %d\n", r))
  io.write(string.format("webhook duplicate: %d\n", d))
  io.write(string.format("webhook other: %d\n", o))
  io.write(string.format("webhook wrapped: %d\n", w))
  if example ~= "" then
    io.write("webhook first other answer: " .. example:gsub("[\r\n]", " ") .. "\n")
  end
end
