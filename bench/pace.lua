-- Paced load for the wrk scripts that offer it (replay.lua's users, profiles.lua): WRK_DELAY_MS (environment) > 0
-- makes each connection pause that long after each answer, as bench/mixed.sh runs them. Read when the script is
-- loaded: wrk decides then whether the script has a delay().
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pause and pause > 0 then
  function delay()
    return pause
  end
end
