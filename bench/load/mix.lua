-- wrk script for bench/load/mixed.py: a mixed mobile workload, open-loop at a set rate.
--
--   wrk -t T -c C -d D -s mix.lua URL -- DATA_DIR RATE RUN_ID NTHREADS LOGIN_FILE OUT_PREFIX
--
-- DATA_DIR holds what bench/load/prepare.py wrote: citizens.tsv (token, licence id, name, ID
-- number), clerk.txt, dept.txt; LOGIN_FILE has one {phone, code} body per line, each used once
-- (thread k takes lines k, k+T, ...).
-- RATE is requests per second over all threads (0: closed loop, every connection as fast as the
-- server answers). Each request carries `X-Request-ID: <kind>-<thread>-<n>`, which the app echoes,
-- so every answer is matched to its kind and its send time; each thread writes one line per
-- answer to OUT_PREFIX<thread>.csv: kind, send time (CLOCK_MONOTONIC, µs: the clock of Python's
-- time.monotonic(), so the driver lines answers up with its CPU samples), latency (µs), status. bench/load/mixed.py reads those files; wrk's own summary is printed too.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } yw_timespec;
  int clock_gettime(int clk, yw_timespec *ts);
]]
local ts = ffi.new("yw_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads, next_id = {}, 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- One cycle of 100 requests (shuffled once with a fixed seed, the same order on every run).
-- Per 100: home 22, nearby 18, cases 12, notifications 12, wallet list 8, present 7, verify 7
-- (a QR text from an earlier present answer; home when none is waiting), login 5, me 5, event 4.
local WEIGHTS = {
  {"home", 22}, {"nearby", 18}, {"cases", 12}, {"notes", 12}, {"wallet", 8}, {"present", 7},
  {"verify", 7}, {"login", 5}, {"me", 5}, {"event", 4},
}
local POINTS = {
  {31.8206, 117.2272}, {31.8231, 117.2301}, {31.8190, 117.2255}, {31.8262, 117.2330},
  {31.8175, 117.2240}, {31.8248, 117.2289}, {31.8213, 117.2318}, {31.8199, 117.2264},
}

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

local function split_tabs(line)
  local fields, start = {}, 1
  while true do
    local s = string.find(line, "\t", start, true)
    if not s then fields[#fields + 1] = string.sub(line, start); break end
    fields[#fields + 1] = string.sub(line, start, s - 1)
    start = s + 1
  end
  return fields
end

function init(args)
  local dir = args[1]
  rate = tonumber(args[2])
  run_id = args[3]
  local nthreads = tonumber(args[4])
  local login_file = args[5]
  out = io.open(args[6] .. id .. ".csv", "w")
  out:setvbuf("line") -- a line per answer: nothing is lost when wrk exits
  -- this thread's share of the rate: one request every `interval` µs, on a schedule of its own
  interval = rate > 0 and (1000000 * nthreads / rate) or 0

  citizens = {}
  for _, line in ipairs(lines(dir .. "/citizens.tsv")) do
    local f = split_tabs(line)
    citizens[#citizens + 1] = {auth = "Bearer " .. f[1], licence = f[2], name = f[3], id_number = f[4]}
  end
  logins = {}
  local i = 0
  for line in io.lines(login_file) do
    if i % nthreads == id then logins[#logins + 1] = line end
    i = i + 1
  end
  clerk = "Bearer " .. lines(dir .. "/clerk.txt")[1]
  dept = "Bearer " .. lines(dir .. "/dept.txt")[1]

  math.randomseed(20261123)
  cycle = {}
  for _, w in ipairs(WEIGHTS) do
    for _ = 1, w[2] do cycle[#cycle + 1] = w[1] end
  end
  for k = #cycle, 2, -1 do
    local j = math.random(k)
    cycle[k], cycle[j] = cycle[j], cycle[k]
  end
  math.randomseed(20261123 + id)

  pos, n, login_idx, citizen_idx, present_idx = 0, 0, 0, id, id
  qr_queue, qr_head, qr_tail = {}, 1, 0
  sent, next_slot = {}, nil
  logins_exhausted = 0
end

function delay()
  if interval == 0 then return 0 end
  local t = now_us()
  if not next_slot then next_slot = t end
  local wait = next_slot - t
  next_slot = math.max(next_slot, t - 1000000) + interval -- at most a second of catching up
  if wait <= 0 then return 0 end
  return math.floor(wait / 1000)
end

local function next_citizen()
  citizen_idx = citizen_idx % #citizens + 1
  return citizens[citizen_idx]
end

-- Licences are shown in a rotation of their own: a licence shown again retires its previous QR
-- text (409 presentation_used at the counter), so each licence comes round only once per pool.
local function next_holder()
  present_idx = present_idx % #citizens + 1
  return citizens[present_idx]
end

local JSON = "application/json"

local function build(kind, rid)
  local h = {["X-Request-ID"] = rid}
  if kind == "home" or kind == "nearby" then
    local p = POINTS[math.random(#POINTS)]
    local lat = string.format("%.6f", p[1] + (math.random() - 0.5) * 0.01)
    local lng = string.format("%.6f", p[2] + (math.random() - 0.5) * 0.01)
    if kind == "home" then
      h["Authorization"] = next_citizen().auth
      return wrk.format("GET", "/api/v1/bff/home?lat=" .. lat .. "&lng=" .. lng, h, nil)
    end
    return wrk.format("GET", "/api/v1/map/halls/nearby?lat=" .. lat .. "&lng=" .. lng .. "&radius_m=5000&limit=10", h, nil)
  elseif kind == "cases" then
    h["Authorization"] = next_citizen().auth
    return wrk.format("GET", "/api/v1/cases?limit=20", h, nil)
  elseif kind == "notes" then
    h["Authorization"] = next_citizen().auth
    return wrk.format("GET", "/api/v1/notifications?limit=20", h, nil)
  elseif kind == "wallet" then
    h["Authorization"] = next_citizen().auth
    return wrk.format("GET", "/api/v1/wallet/licences", h, nil)
  elseif kind == "me" then
    h["Authorization"] = next_citizen().auth
    return wrk.format("GET", "/api/v1/me", h, nil)
  elseif kind == "present" then
    local c = next_holder()
    h["Authorization"] = c.auth
    h["Content-Type"] = JSON
    return wrk.format("POST", "/api/v1/wallet/licences/" .. c.licence .. "/presentations", h, "{}")
  elseif kind == "verify" then
    local qr = qr_queue[qr_head]
    qr_queue[qr_head] = nil
    qr_head = qr_head + 1
    h["Authorization"] = clerk
    h["Content-Type"] = JSON
    return wrk.format("POST", "/api/v1/counter/verifications", h, '{"qr_text":"' .. qr .. '","matter":"identity_check"}')
  elseif kind == "login" then
    login_idx = login_idx + 1
    local body = logins[login_idx]
    if not body then
      logins_exhausted = logins_exhausted + 1
      body = logins[(login_idx - 1) % #logins + 1]
    end
    h["Content-Type"] = JSON
    return wrk.format("POST", "/api/v1/auth/login", h, body)
  else -- event: a department pushes a new case for one of the citizens
    local c = next_citizen()
    h["Authorization"] = dept
    h["Content-Type"] = JSON
    local key = run_id .. "-" .. id .. "-" .. n
    return wrk.format("POST", "/api/v1/dept/case-events", h, string.format(
      '{"event_id":"load-%s","case_no":"LOAD-%s","applicant":{"name":"%s","id_number":"%s"},' ..
      '"item_code":"BENCH-ITEM","item_name":"压测事项","status":"submitted","seq":1,' ..
      '"occurred_at":"2026-11-20T09:00:00+08:00"}', key, key, c.name, c.id_number))
  end
end

function request()
  pos = pos % #cycle + 1
  local kind = cycle[pos]
  if kind == "verify" and qr_head > qr_tail then kind = "home" end
  n = n + 1
  local rid = kind .. "-" .. id .. "-" .. n
  sent[rid] = now_us()
  return build(kind, rid)
end

function response(status, headers, body)
  local t = now_us()
  local rid = headers["X-Request-ID"] or headers["x-request-id"]
  local started = rid and sent[rid]
  if not started then
    out:write("unknown,0,0,", status, "\n")
    return
  end
  sent[rid] = nil
  local kind = string.match(rid, "^(%a+)-")
  if kind == "present" and status == 201 then
    local qr = string.match(body, '"qr_text"%s*:%s*"([^"]+)"')
    if qr then
      qr_tail = qr_tail + 1
      qr_queue[qr_tail] = qr
    end
  end
  out:write(kind, ",", string.format("%d", started), ",", math.floor(t - started), ",", status, "\n")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'LOAD_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
    '"status_ge_400": %d, "p50_us": %.1f, "p99_us": %.1f, "max_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
