-- GetAllWebhooks, SOTicket, filtered in the body: EventFilter WRK_EVENT (default bench.few),
-- which a few of the stored webhooks subscribe to.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local req

-- Made at the first request: wrk knows the Host header only once the threads run.
function request()
  req = req or common.agent("GetAllWebhooks", '{"EventFilter":"' .. (os.getenv("WRK_EVENT") or "bench.few") .. '"}')
  return req
end

done = common.done
