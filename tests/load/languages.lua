-- SOTicket with the headers the TypeScript client sends: languages, culture and time zone.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")
common.request({
  Authorization = "SOTicket " .. os.getenv("WRK_TICKET"),
  ["Accept-Language"] = "sv",
  ["SO-Language"] = "sv",
  ["SO-Culture"] = "sv",
  ["SO-TimeZone"] = "NO,includeTZOffset",
})
done = common.done
