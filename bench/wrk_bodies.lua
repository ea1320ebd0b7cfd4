-- wrk script for bench/loadgen.py: one method and path, a body per request from a file,
-- counts answers whose status is not the expected one, prints one JSON line at the end.
--   wrk ... -s wrk_bodies.lua URL -- METHOD PATH EXPECT_STATUS BODY_FILE|- ONE_SHOT(0|1) NTHREADS PER_REQUEST(0|1)
--                                     [HEADER=VALUE ...]
-- PER_REQUEST=1: each line is a whole request, tab-separated: PATH, `Name: value` headers, BODY;
-- the line's headers are added to the fixed ones.
-- ONE_SHOT=1: each body is used once (thread k takes lines k, k+n, ...); running out is counted
-- and the bodies are reused (the server then rejects them, which shows up as errors).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- a per-request line, formatted once up front: PATH \t Name: value ... \t BODY
function prebuild(line)
  local fields, start = {}, 1
  while true do
    local s, e = string.find(line, "\t", start, true)
    if not s then fields[#fields + 1] = string.sub(line, start); break end
    fields[#fields + 1] = string.sub(line, start, s - 1)
    start = e + 1
  end
  local h = {}
  for k, v in pairs(headers) do h[k] = v end
  for i = 2, #fields - 1 do
    local k, v = string.match(fields[i], "^([^:]+): (.*)$")
    h[k] = v
  end
  return wrk.format(method, fields[1], h, fields[#fields])
end

function init(args)
  method, path, expect = args[1], args[2], tonumber(args[3])
  local file, one_shot_arg, nthreads = args[4], args[5], tonumber(args[6])
  one_shot = one_shot_arg == "1"
  per_request = args[7] == "1"
  headers = {}
  for i = 8, #args do
    local k, v = string.match(args[i], "^([^=]+)=(.*)$")
    headers[k] = v
  end
  bodies = {}
  if file ~= "-" then
    local i = 0
    for line in io.lines(file) do
      if (not one_shot) or (i % nthreads == id) then
        bodies[#bodies + 1] = per_request and prebuild(line) or line
      end
      i = i + 1
    end
  end
  idx, unexpected, exhausted = 0, 0, 0
  if #bodies == 0 then fixed = wrk.format(method, path, headers, nil) end
end

function request()
  if fixed then return fixed end
  idx = idx + 1
  if idx > #bodies then
    if one_shot then exhausted = exhausted + 1 end
    idx = 1
  end
  if per_request then return bodies[idx] end
  return wrk.format(method, path, headers, bodies[idx])
end

function response(status, hdrs, body)
  if status ~= expect then
    unexpected = unexpected + 1
    local name = "status_" .. status
    _G[name] = (_G[name] or 0) + 1
  end
end

function done(summary, latency, requests)
  local unexp, exh, by_status = 0, 0, {}
  for _, t in ipairs(threads) do
    unexp = unexp + t:get("unexpected")
    exh = exh + t:get("exhausted")
    for code = 100, 599 do
      local n = t:get("status_" .. code)
      if n then by_status[code] = (by_status[code] or 0) + n end
    end
  end
  local parts = {}
  for code, n in pairs(by_status) do parts[#parts + 1] = string.format('"status_%d": %d', code, n) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "unexpected_status": %d, "exhausted": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "status_ge_400": %d, ' ..
    '"p50_us": %.1f, "p90_us": %.1f, "p99_us": %.1f, "mean_us": %.1f, "max_us": %.1f, "by_status": {%s}}\n',
    summary.requests, summary.duration, unexp, exh, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    table.concat(parts, ", ")))
end
