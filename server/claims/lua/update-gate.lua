-- Brings an open gate up to date with an edited deal: its window, state, geo-fence and
-- quantity. The gate keeps the quantity it was built for, and `remaining` moves by the
-- difference, so applying the same edit twice (or after a loader already read the new
-- quantity) changes nothing more. Atomic, so no claim sees half an edit. Runs only under the
-- load lock, so a loader cannot open the gate from a deal row read before the edit.
-- KEYS: meta, users, idem, pending, loadLock
-- ARGV: lockToken, quantity, starts, ends, state, expireAtMs, fenceLat, fenceLng, fenceM
-- Returns 1 when updated, 0 when no gate is open (the next attempt loads the new deal),
-- 2 when the gate does not know its quantity (opened before it was kept: rebuild it).
if redis.call('GET', KEYS[5]) ~= ARGV[1] then return -1 end
local meta = redis.call('HMGET', KEYS[1], 'state', 'quantity')
if not meta[1] or meta[1] == 'missing' then return 0 end
if not meta[2] then return 2 end
redis.call('HINCRBY', KEYS[1], 'remaining', tonumber(ARGV[2]) - tonumber(meta[2]))
redis.call('HSET', KEYS[1], 'quantity', ARGV[2], 'starts', ARGV[3], 'ends', ARGV[4],
  'state', ARGV[5], 'expireAt', ARGV[6])
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'fenceLat', ARGV[7], 'fenceLng', ARGV[8], 'fenceM', ARGV[9])
else
  redis.call('HDEL', KEYS[1], 'fenceLat', 'fenceLng', 'fenceM')
end
for i = 1, 4 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('PEXPIREAT', KEYS[i], ARGV[6]) end
end
return 1
