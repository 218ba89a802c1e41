-- wrk script of the swsgi benchmark (bench/bench.py).
-- BENCH_POST_BYTES=n: every request is a POST with an n-byte body (the upload scenario).
-- done() prints one line, "BENCH_JSON {...}", with the counts and latency percentiles (µs);
-- there is no per-response hook, so the script costs wrk nothing while it runs (but for a
-- request() function when BENCH_PATHS is set).
local post_bytes = tonumber(os.getenv("BENCH_POST_BYTES") or "0") or 0
if post_bytes > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("x", post_bytes)
  wrk.headers["Content-Type"] = "application/octet-stream"
end

-- BENCH_PATHS=a,b: the requests alternate between these paths (per connection).
local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATHS") or "", "[^,]+") do paths[#paths + 1] = path end
if #paths > 0 then
  local next_path = 0
  request = function()
    next_path = next_path % #paths + 1
    return wrk.format(nil, paths[next_path])
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"status_errors":%d,' ..
    '"latency_mean_us":%.1f,"latency_max_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
