-- wrk script: every request is one claim by the next shopper in line.
-- env: CLAIM_TOKENS (file of session tokens, one per line), CLAIM_DEAL (deal id),
--      CLAIM_THREADS (wrk's -t), CLAIM_PATH (default /api/claim).
-- Thread t of n sends shoppers t, t+n, t+2n, ...
-- and starts over from its first shopper when it runs out (a retry: same shopper, new key).
-- Each shopper gets its own X-Forwarded-For address, as a crowd behind a proxy would; the
-- servers the bench starts trust loopback as that proxy (BENCH_TRUSTED_PROXIES).

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
end

function init(args)
  total_threads = tonumber(os.getenv("CLAIM_THREADS") or "1")
  deal = os.getenv("CLAIM_DEAL")
  path = os.getenv("CLAIM_PATH") or "/api/claim"
  tokens = {}
  local n, i = 0, 0
  for line in io.lines(os.getenv("CLAIM_TOKENS")) do
    n = n + 1
    if (n - index) % total_threads == 0 then
      i = i + 1
      tokens[i] = line
    end
  end
  next_token = 0
  sent = 0
end

function request()
  next_token = next_token % #tokens + 1
  sent = sent + 1
  local shopper = (next_token - 1) * total_threads + index
  local headers = {
    ["Content-Type"] = "application/json",
    ["Cookie"] = "dd_session=" .. tokens[next_token],
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d",
      math.floor(shopper / 65536) % 256, math.floor(shopper / 256) % 256, shopper % 256),
  }
  local body = string.format('{"dealId":"%s","idempotencyKey":"bench-%d-%d"}', deal, index, sent)
  return wrk.format("POST", path, headers, body)
end

-- One line the bench parses: counts, and latency percentiles in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"connectErrors":%d,"readErrors":%d,' ..
    '"writeErrors":%d,"timeouts":%d,"non2xx":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,' ..
    '"p999Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
