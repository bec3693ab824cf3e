-- wrk script for bench/klaviyo.sh: replays pre-signed Klaviyo batches.
--
-- klaviyo.sh signs the batches beforehand (wrk's Lua has no HMAC) and writes one file per wrk thread,
-- <prefix>.<thread>.txt, one batch a line:
--   <unix seconds> TAB <hex signature> TAB <webhook id> TAB <raw JSON body>
-- Usage: wrk -t N -c C -d D --latency -s bench/klaviyo.lua URL -- <prefix>
--
-- done() prints how many batches were answered 200 and the sums of their "received" and "duplicates" counts
-- (a thread that runs out of batches starts over: those repeats come back as duplicates).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file = args[1] .. "." .. thread_id .. ".txt"
  requests = {}
  for line in io.lines(file) do
    local ts, sig, hook, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.+)$")
    if ts then
      requests[#requests + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["Klaviyo-Timestamp"] = ts,
        ["Klaviyo-Signature"] = sig,
        ["Klaviyo-Webhook-Id"] = hook,
      }, body)
    end
  end
  if #requests == 0 then
    error("no signed batches in " .. file)
  end
  index, wrapped, batches, received, duplicates, other, first_other = 0, 0, 0, 0, 0, 0, ""
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
  local r, d = body:match('"received"%s*:%s*(%d+)%s*,%s*"duplicates"%s*:%s*(%d+)')
  if status == 200 and r then
    batches = batches + 1
    received = received + tonumber(r)
    duplicates = duplicates + tonumber(d)
  else
    other = other + 1
    if first_other == "" then
      first_other = status .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local b, r, d, o, w, example = 0, 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    b = b + (t:get("batches") or 0)
    r = r + (t:get("received") or 0)
    d = d + (t:get("duplicates") or 0)
    o = o + (t:get("other") or 0)
    w = w + (t:get("wrapped") or 0)
    if example == "" then
      example = t:get("first_other") or ""
    end
  end
  io.write(string.format("klaviyo batches: %d\n", b))
  io.write(string.format("klaviyo events received: %d\n", r))
  io.write(string.format("klaviyo events duplicate: %d\n", d))
  io.write(string.format("klaviyo other: %d\n", o))
  io.write(string.format("klaviyo wrapped: %d\n", w))
  if example ~= "" then
    io.write("klaviyo first other answer: " .. example:gsub("[\r\n]", " ") .. "\n")
  end
end
