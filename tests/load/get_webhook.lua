-- GetWebhook by id, SOTicket: each request another of the stored webhooks WRK_IDS names ("1-1000").
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local next_id

setup = common.setup

function request()
  next_id = next_id or common.ids()
  return common.agent("GetWebhook?WebhookId=" .. next_id())
end

done = common.done
