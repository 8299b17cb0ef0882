-- SignalEvent, SOTicket: event WRK_EVENT (default bench.signal) with a PrimaryKey that counts up
-- and a small Data object; each request queues one delivery per Active webhook subscribed to it.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local event, n = os.getenv("WRK_EVENT") or "bench.signal", 0

function request()
  n = n + 1
  return common.agent("SignalEvent", string.format('{"EventName":"%s","PrimaryKey":%d,"Data":{"name":"Acme"}}',
    event, n))
end

done = common.done
