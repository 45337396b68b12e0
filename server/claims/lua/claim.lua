-- Decides one claim attempt. Atomic because Redis runs a script to the end before any other
-- command: no two attempts can both see the last unit, or both see a user as new.
-- KEYS: meta, users, idem, pending, the shopper's attempt counter, the address's counter
-- ARGV: userId, idempotencyKey, claimId, nowMs, lat, lng (lat and lng '' when not shared),
--       shopper limit, address limit (0: no address), window ms
local meta = redis.call('HMGET', KEYS[1], 'remaining', 'starts', 'ends', 'state', 'expireAt',
  'fenceLat', 'fenceLng', 'fenceM')
local state = meta[4]
if not state then return {'NOT_LOADED'} end
if state == 'missing' then return {'NOT_FOUND'} end

-- Attempts are counted here, in the decision's own round trip. INCR and the first PEXPIRE
-- happen together, so a counter can never outlive its window.
local function waitMs(counter, limit)
  local count = redis.call('INCR', counter)
  if count == 1 then redis.call('PEXPIRE', counter, ARGV[9]) end
  if count > limit then return math.max(redis.call('PTTL', counter), 1) end
  return nil
end
local wait = waitMs(KEYS[5], tonumber(ARGV[7]))
if not wait and tonumber(ARGV[8]) > 0 then wait = waitMs(KEYS[6], tonumber(ARGV[8])) end
if wait then return {'RATE_LIMITED', wait} end

local idemField = ARGV[1] .. ':' .. ARGV[2]
local prior = redis.call('HGET', KEYS[3], idemField)
if prior then
  local inFlight = redis.call('ZSCORE', KEYS[4], prior .. '|' .. ARGV[1] .. '|' .. ARGV[2]) and 1 or 0
  return {'WON', prior, 'replay', inFlight}
end

-- A user holds a claim (its id), or gave up one with a voucher ('!' .. its id): see release.lua.
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held then
  if string.sub(held, 1, 1) == '!' then return {'ALREADY_CANCELLED', string.sub(held, 2)} end
  return {'ALREADY_CLAIMED', held}
end

if state == 'cancelled' then return {'CANCELLED'} end
local now = tonumber(ARGV[4])
if now < tonumber(meta[2]) then return {'NOT_STARTED'} end
if now >= tonumber(meta[3]) then return {'ENDED'} end

local remaining = tonumber(meta[1])
if remaining <= 0 then return {'SOLD_OUT'} end

-- A geo-fenced deal: the reported position must be within the radius (Haversine, metres).
-- Returns the distance, or -1 when no position was sent.
if meta[8] then
  if ARGV[5] == '' then return {'OUT_OF_AREA', -1, tonumber(meta[8])} end
  local r = math.pi / 180
  local lat1, lng1 = tonumber(meta[6]) * r, tonumber(meta[7]) * r
  local lat2, lng2 = tonumber(ARGV[5]) * r, tonumber(ARGV[6]) * r
  local h = math.sin((lat2 - lat1) / 2) ^ 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ^ 2
  local metres = 2 * 6371008.8 * math.asin(math.min(1, math.sqrt(h)))
  if metres > tonumber(meta[8]) then return {'OUT_OF_AREA', math.floor(metres + 0.5), tonumber(meta[8])} end
end

redis.call('HINCRBY', KEYS[1], 'remaining', -1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], idemField, ARGV[3])
redis.call('ZADD', KEYS[4], now, ARGV[3] .. '|' .. ARGV[1] .. '|' .. ARGV[2])
for i = 2, 4 do redis.call('PEXPIREAT', KEYS[i], meta[5]) end
return {'WON', ARGV[3], 'new', remaining - 1}
