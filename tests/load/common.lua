-- Shared by the load scripts: POST to CreateDefaultWebhook with the headers a script sets, or to
-- another agent method (the API scripts), and a summary at the end that the benchmarks and the
-- tests parse (one "key=value" line).
local M = {}

function M.request(headers)
  wrk.method = "POST"
  wrk.path = os.getenv("WRK_PATH") or "/api/v1/Agents/Webhook/CreateDefaultWebhook"
  for k, v in pairs(headers) do
    wrk.headers[k] = v
  end
end

-- RFC 4648 base64, for Basic credentials.
function M.b64(s)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

-- An agent method with SOTicket (WRK_TICKET) and a JSON body or none, for request() of the API
-- scripts (tests/bench/api).
function M.agent(method, body)
  return wrk.format("POST", "/api/v1/Agents/Webhook/" .. method,
    { Authorization = "SOTicket " .. os.getenv("WRK_TICKET"), ["Content-Type"] = "application/json" }, body)
end

-- Numbers wrk's threads (the global thread_index of each, from 0): a script that names webhook
-- ids sets setup = common.setup, so that two threads never name the same id at once.
local nthreads = 0
function M.setup(thread)
  thread:set("thread_index", nthreads)
  nthreads = nthreads + 1
end

-- An iterator over the ids WRK_IDS names ("FIRST-LAST"), each thread taking every WRK_THREADS-th
-- (default 2, as the benchmark runs wrk -t2) from its own thread_index on.
function M.ids()
  local first, last = (os.getenv("WRK_IDS") or ""):match("^(%d+)-(%d+)$")
  local span, stride = tonumber(last) - tonumber(first) + 1, tonumber(os.getenv("WRK_THREADS") or "2")
  local k = 0
  return function()
    local id = tonumber(first) + ((thread_index or 0) + k * stride) % span
    k = k + 1
    return id
  end
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
end

return M
