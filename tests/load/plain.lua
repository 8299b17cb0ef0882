-- No authentication, for the baselines: WRK_METHOD (default GET) on the URL's path.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")
wrk.method = os.getenv("WRK_METHOD") or "GET"
done = common.done
