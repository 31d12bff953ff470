-- Shared by the wrk scripts of `npm run bench` (loaded with dofile from WRK_RESULT_LUA): writes
-- wrk's summary as JSON to the file named by WRK_RESULT, for scripts/bench/load.ts to read.
function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("WRK_RESULT"), "w"))
  out:write(string.format(
    '{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"meanUs":%f,"p50Us":%d,"p90Us":%d,"p99Us":%d,"p999Us":%d,"maxUs":%d}',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
  out:close()
end
