-- Takes a grant back from the gate: for a win whose Postgres write failed (compensation), a
-- pending reservation the reconciler found abandoned, or a claim later cancelled.
-- Atomic, and conditional on the user still holding this claim, so a release that runs twice
-- (request and reconciler racing) acts once.
-- returnUnit = '0' when Postgres refused the unit because the deal is full there: the gate
-- had counted a unit that does not exist (it was rebuilt while a write was in flight), so the
-- unit is dropped rather than returned, and the gate converges back to the truth.
-- bar = '1' when the claim had a voucher: the user stays in the users hash as '!' .. claimId,
-- so claim.lua answers ALREADY_CANCELLED to them from then on (one voucher per shopper per
-- deal, ever) while the unit goes back to everyone else.
-- KEYS: meta, users, idem, pending
-- ARGV: userId, claimId, idempotencyKey, forgetIdempotency ('1' | '0'), returnUnit ('1' | '0'),
--       bar ('1' | '0')
local member = ARGV[2] .. '|' .. ARGV[1] .. '|' .. ARGV[3]
redis.call('ZREM', KEYS[4], member)
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'missing' then return 0 end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[2], ARGV[1], '!' .. ARGV[2])
else
  redis.call('HDEL', KEYS[2], ARGV[1])
end
if ARGV[4] == '1' then redis.call('HDEL', KEYS[3], ARGV[1] .. ':' .. ARGV[3]) end
if ARGV[5] == '1' then redis.call('HINCRBY', KEYS[1], 'remaining', 1) end
return 1
