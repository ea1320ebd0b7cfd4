-- wrk script for bench/servers/compare.py: one kind of request, closed loop, over the citizens
-- bench/load/prepare.py wrote (the same data as the mixed load, bench/load/mix.lua).
--
--   wrk -t 1 -c C -d D -s one.lua URL -- KIND DATA_DIR EXPECT_STATUS [PAUSE_MS]
--
-- KIND: bare (GET /bare), me, nearby, home, present (POST a licence presentation: each citizen's
-- licence in turn; showing it again retires its previous QR text and answers 201 again).
-- PAUSE_MS: each connection waits that long after an answer before its next request (C connections
-- then send about C * 1000 / PAUSE_MS req/s while the server keeps up; 0 or none: closed loop).
-- Latency is wrk's, from send to answer.
-- Prints `BENCH_JSON {...}` like bench/wrk_bodies.lua: requests, duration, latency percentiles,
-- answers by status, socket errors.

local POINTS = {
  {31.8206, 117.2272}, {31.8231, 117.2301}, {31.8190, 117.2255}, {31.8262, 117.2330},
  {31.8175, 117.2240}, {31.8248, 117.2289}, {31.8213, 117.2318}, {31.8199, 117.2264},
}

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local function split_tabs(line)
  local fields = {}
  for f in string.gmatch(line, "[^\t]+") do fields[#fields + 1] = f end
  return fields
end

function init(args)
  kind, expect = args[1], tonumber(args[3])
  pause_ms = tonumber(args[4] or "0")
  citizens = {}
  if kind ~= "bare" then
    for line in io.lines(args[2] .. "/citizens.tsv") do
      if line ~= "" then
        local f = split_tabs(line)
        citizens[#citizens + 1] = {auth = "Bearer " .. f[1], licence = f[2]}
      end
    end
  end
  idx, by_status, unexpected = 0, {}, 0
  math.randomseed(20261206)
end

function delay()
  return pause_ms
end

local function point()
  local p = POINTS[math.random(#POINTS)]
  return string.format("lat=%.6f&lng=%.6f", p[1] + (math.random() - 0.5) * 0.01, p[2] + (math.random() - 0.5) * 0.01)
end

function request()
  if kind == "bare" then return wrk.format("GET", "/bare", {}, nil) end
  if kind == "nearby" then
    return wrk.format("GET", "/api/v1/map/halls/nearby?" .. point() .. "&radius_m=5000&limit=10", {}, nil)
  end
  idx = idx % #citizens + 1
  local c = citizens[idx]
  local h = {["Authorization"] = c.auth}
  if kind == "me" then return wrk.format("GET", "/api/v1/me", h, nil) end
  if kind == "home" then return wrk.format("GET", "/api/v1/bff/home?" .. point(), h, nil) end
  h["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/wallet/licences/" .. c.licence .. "/presentations", h, "{}")
end

function response(status, headers, body)
  if status ~= expect then
    unexpected = unexpected + 1
    by_status[status] = (by_status[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local bad, statuses = 0, {}
  for _, t in ipairs(threads) do
    bad = bad + (t:get("unexpected") or 0)
    local s = t:get("by_status") or {}
    for k, v in pairs(s) do statuses[#statuses + 1] = string.format('"status_%d": %d', k, v) end
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
    '"unexpected_status": %d, "by_status": {%s}, "p50_us": %.1f, "p90_us": %.1f, "p99_us": %.1f, ' ..
    '"mean_us": %.1f, "max_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, bad, table.concat(statuses, ", "),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
