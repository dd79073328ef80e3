-- wrk script: POSTs seed-style forms as urlencoded, JSON, or a 50/50 mix, and
-- prints one JSON line with throughput and latency when the run ends.
-- Env: BENCH_MIX = form | json | mixed (default mixed), BENCH_LABEL, BENCH_CONNECTIONS.

local mix = os.getenv("BENCH_MIX") or "mixed"
local label = os.getenv("BENCH_LABEL") or "target"
local connections = tonumber(os.getenv("BENCH_CONNECTIONS") or "0")

local form_body = "userinput1=hello+there&userinput2=caf%C3%A9"
local json_body = '{"userinput1":"hello there","userinput2":"café"}'
local form_req, json_req
local n = 0

init = function(args)
  form_req = wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, form_body)
  json_req = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, json_body)
end

request = function()
  n = n + 1
  if mix == "form" then return form_req end
  if mix == "json" then return json_req end
  if n % 2 == 0 then return json_req end
  return form_req
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"target":"%s","mix":"%s","connections":%d,"duration_s":%.2f,"requests":%d,"req_per_s":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"socket_errors":%d,"non_2xx":%d}\n',
    label, mix, connections, seconds, summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
