-- A flood of Basic logins that each need a password check, cycling through many Authorization
-- headers (tests/bench/flood runs it next to a ticket client):
--   WRK_FLOOD=wrong   (default) 4096 different unknown users with wrong passwords per thread;
--                     failures are never cached, so every request needs crypt(3)
--   WRK_FLOOD=valid   WRK_USER's right password (WRK_PASSWORD), each header made new by a random
--                     run of blanks between scheme and credentials: every request misses the
--                     credential cache and needs crypt(3)
--   WRK_FLOOD_DELAY_MS  pause of each connection between its requests (default 0: as fast as
--                     answered); with -cN the flood sends at most N * 1000 / delay requests a second
-- wrk sends from one address: the daemon under test runs with max_failed_logins = 0, which is what
-- a flood from enough addresses amounts to (tests/e2e/test_login_flood.py sends from thousands of
-- 127/8 addresses with the throttle on).
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local mode = os.getenv("WRK_FLOOD") or "wrong"
local pause = tonumber(os.getenv("WRK_FLOOD_DELAY_MS") or "0")
local path = os.getenv("WRK_PATH") or "/api/v1/Agents/Webhook/CreateDefaultWebhook"
local headers, n, token = {}, 0, nil

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
  if mode == "valid" then
    token = common.b64(os.getenv("WRK_USER") .. ":" .. os.getenv("WRK_PASSWORD"))
  else
    for i = 1, 4096 do
      headers[i] = "Basic " .. common.b64(string.format("flood-%08x:%08x", math.random(0, 0x7fffffff),
        math.random(0, 0x7fffffff)))
    end
  end
end

function request()
  local authorization
  if mode == "valid" then
    local blanks = {}
    for i = 1, math.random(16, 48) do blanks[i] = math.random(2) == 1 and " " or "\t" end
    authorization = "Basic" .. table.concat(blanks) .. token
  else
    n = n % #headers + 1
    authorization = headers[n]
  end
  return wrk.format("POST", path, { Authorization = authorization, ["Content-Length"] = "0" })
end

if pause > 0 then
  function delay()
    return pause
  end
end

-- The flood's own answers, by status (a global of each thread's state, collected in done()).
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, keys, parts = {}, {}, {}
  common.done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status in pairs(total) do keys[#keys + 1] = status end
  table.sort(keys)
  for _, status in ipairs(keys) do parts[#parts + 1] = string.format("s%d=%d", status, total[status]) end
  io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
end
