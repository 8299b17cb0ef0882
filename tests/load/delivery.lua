-- A webhook receiver's load as webhook-deliverd makes it, for the delivery benchmark's baseline:
-- POST of one delivery's body with its headers, both read from WRK_REQUEST_FILE ("Name: value"
-- lines, an empty line, then the body), to the URL's path.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local f = assert(io.open(assert(os.getenv("WRK_REQUEST_FILE"), "WRK_REQUEST_FILE is not set"), "rb"))
local text = f:read("*a")
f:close()
local head, body = text:match("^(.-)\n\n(.*)$")
wrk.method = "POST"
for line in head:gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  wrk.headers[name] = value
end
wrk.body = body
done = common.done
