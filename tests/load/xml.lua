-- SOTicket with the XML representation.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")
common.request({ Authorization = "SOTicket " .. os.getenv("WRK_TICKET"), Accept = "application/xml" })
done = common.done
