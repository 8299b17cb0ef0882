-- SaveWebhook, SOTicket: replaces the webhooks WRK_IDS names ("1-300"), one after the other, with
-- what they hold (name, events, target and state unchanged, so that other figures stay put). With
-- target_check off each save is one UPDATE; with it on, the target would be posted a test event
-- only when TargetUrl changes, which it never does here.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local next_id

setup = common.setup

function request()
  next_id = next_id or common.ids()
  local id = next_id()
  return common.agent("SaveWebhook", string.format('{"WebhookId":%d,"Name":"bench hook %d",'
    .. '"Events":["contact.created","contact.changed"],"TargetUrl":"http://127.0.0.1:9/hook/%d",'
    .. '"Secret":"secret-%d","State":"Active","Type":"webhook"}', id, id, id, id))
end

done = common.done
