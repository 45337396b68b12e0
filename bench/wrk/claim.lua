-- wrk script: every request is one claim by the next shopper in line.
-- env: CLAIM_TOKENS (file of session tokens, one per line), CLAIM_DEAL (deal id),
--      CLAIM_THREADS (wrk's -t), CLAIM_PATH (default /api/claim).
-- Thread t of n sends shoppers t, t+n, t+2n, ...
-- and starts over from its first shopper when it runs out (a retry: same shopper, new key).
-- Each shopper gets its own X-Forwarded-For address, as a crowd behind a proxy would; the
-- servers the bench starts trust loopback as that proxy (BENCH_TRUSTED_PROXIES).

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

-- Per thread: winners, and 503s answered before this thread saw its first SOLD_OUT (a 503
-- on one thread just after another saw the sale end is still counted: an upper bound).
won = 0
shed_while_stock = 0
sold_out_seen = false

function response(status, headers, body)
  if status == 503 then
    if not sold_out_seen then shed_while_stock = shed_while_stock + 1 end
  elseif body then
    if string.find(body, '"SOLD_OUT"', 1, true) then sold_out_seen = true
    elseif string.find(body, '"WON"', 1, true) then won = won + 1 end
  end
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
  local won_total, shed_total = 0, 0
  for _, thread in ipairs(threads) do
    won_total = won_total + (thread:get("won") or 0)
    shed_total = shed_total + (thread:get("shed_while_stock") or 0)
  end
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"connectErrors":%d,"readErrors":%d,' ..
    '"writeErrors":%d,"timeouts":%d,"non2xx":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,' ..
    '"p999Us":%d,"maxUs":%d,"won":%d,"shedWhileStock":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, won_total, shed_total))
end
