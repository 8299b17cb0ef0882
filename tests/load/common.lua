-- Shared by the load scripts: POST to CreateDefaultWebhook with the headers a script sets, and a
-- summary at the end that the benchmark and the tests parse (one "key=value" line).
local M = {}

function M.request(headers)
  wrk.method = "POST"
  wrk.path = os.getenv("WRK_PATH") or "/api/v1/Agents/Webhook/CreateDefaultWebhook"
  for k, v in pairs(headers) do
    wrk.headers[k] = v
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
