-- Replays pre-built raw HTTP requests (bench/run.py writes them, NUL-separated), each
-- thread taking every Nth one so no request is sent twice, and counts status codes.
-- Usage: wrk -t T -c C -d D -s replay.lua http://127.0.0.1:PORT -- FILE T
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  local nthreads = tonumber(args[2])
  requests = {}
  local i = 0
  for raw in string.gmatch(data, "([^%z]+)") do
    if i % nthreads == tid - 1 then
      table.insert(requests, raw)
    end
    i = i + 1
  end
  nreq = #requests
  position = 0
  statuses = {}
  sent = 0
end

function request()
  position = position % #requests + 1  -- wraps only if the file is too short (reported)
  sent = sent + 1
  return requests[position]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged, wrapped = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + n
    end
    if thread:get("sent") > thread:get("nreq") then wrapped = 1 end
  end
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', status, n))
  end
  -- The latency at every tenth of a percent, so that rounds of one scenario can be
  -- pooled into one distribution (bench/run.py, pooled_percentile).
  local permille = {}
  for i = 1, 1000 do
    table.insert(permille, string.format("%d", latency:percentile(i / 10)))
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "wrapped": %d, "statuses": {%s}, "permille_us": [%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    wrapped, table.concat(parts, ", "), table.concat(permille, ", ")))
end
