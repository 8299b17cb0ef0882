-- Basic authentication: WRK_USER and WRK_PASSWORD.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")

common.request({ Authorization = "Basic " .. common.b64(os.getenv("WRK_USER") .. ":" .. os.getenv("WRK_PASSWORD")) })
done = common.done
