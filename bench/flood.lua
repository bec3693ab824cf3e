-- wrk script for bench/flood.sh: GET /v1/profiles/<random name that exists nowhere>, every
-- request from one client identity (X-Forwarded-For through the trusted loopback proxy of
-- bench/flood.json).
-- Usage: wrk ... -s bench/flood.lua URL -- CLIENT_IP
function init(args)
  client = args[1] or "198.51.100.1"
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local name = string.format("rnd-%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  return wrk.format("GET", "/v1/profiles/" .. name, { ["X-Forwarded-For"] = client })
end
