-- The minimal ceiling's gate (bench/ceiling-server.ts, CEILING_GATE=minimal): check the
-- stock and take one unit, atomically, and nothing else: no sale window, no one-per-shopper,
-- no idempotency, no rate limit, no pending mark. KEYS[1]: the stock counter.
local left = tonumber(redis.call("GET", KEYS[1]) or "0")
if left <= 0 then return "SOLD_OUT" end
redis.call("DECR", KEYS[1])
return "WON"
