-- Shared by the wrk scripts that replay pre-signed requests (webhook.lua, klaviyo.lua): the signing scripts write
-- one file per wrk thread, <prefix>.<thread>.txt, one request a line of 4 TAB-separated fields, the last the raw
-- JSON body. Each thread sends its own requests in order and starts over when it runs out (counted as "wrapped").
--
-- A script hands replay.install its name (the prefix of done()'s lines), headers(f1, f2, f3) building one request's
-- headers from the first three fields, classify(status, body) adding to the thread's counters (a table) and
-- answering true when the answer was what was expected, and the counter names done() sums over the threads and
-- prints, in order. Answers classify refuses are counted as "other", the first one shown.
local replay = {}

require("pace")   -- WRK_DELAY_MS: paced load

function replay.install(name, headers, classify, counters)
  local threads = {}
  local next_id = 0

  function setup(thread)
    thread:set("thread_id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
  end

  function init(args)
    if args[1] == nil then
      error("usage: wrk ... -s " .. name .. ".lua URL -- <request file prefix>")
    end
    local file = args[1] .. "." .. thread_id .. ".txt"
    requests = {}
    for line in io.lines(file) do
      local a, b, c, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.+)$")
      if a then
        local h = headers(a, b, c)
        h["Content-Type"] = "application/json"
        requests[#requests + 1] = wrk.format("POST", nil, h, body)
      end
    end
    if #requests == 0 then
      error("no signed requests in " .. file)
    end
    index, wrapped, other, first_other = 0, 0, 0, ""
    counts = {}
    for _, k in ipairs(counters) do
      counts[k] = 0
    end
  end

  function request()
    index = index + 1
    if index > #requests then
      index = 1
      wrapped = wrapped + 1
    end
    return requests[index]
  end

  function response(status, _, body)
    if not classify(status, body or "", counts) then
      other = other + 1
      if first_other == "" then
        first_other = status .. " " .. string.sub(body or "", 1, 200)
      end
    end
  end

  function done()
    local sums, o, w, example = {}, 0, 0, ""
    for _, t in ipairs(threads) do
      local c = t:get("counts") or {}
      for _, k in ipairs(counters) do
        sums[k] = (sums[k] or 0) + (c[k] or 0)
      end
      o = o + (t:get("other") or 0)
      w = w + (t:get("wrapped") or 0)
      if example == "" then
        example = t:get("first_other") or ""
      end
    end
    for _, k in ipairs(counters) do
      io.write(string.format("%s %s: %d\n", name, k, sums[k]))
    end
    io.write(string.format("%s other: %d\n", name, o))
    io.write(string.format("%s wrapped: %d\n", name, w))
    if example ~= "" then
      io.write(name .. " first other answer: " .. example:gsub("[\r\n]", " ") .. "\n")
    end
  end
end

return replay
