-- Opens a deal's gate after its claims were copied from Postgres into the users and idem
-- hashes. Writing `meta` is what opens it: the claim script answers NOT_LOADED until `meta`
-- exists, so no attempt can see a half-loaded gate. A second loader finds it open and stops.
-- KEYS: meta, users, idem, pending   ARGV: remaining, starts, ends, state, expireAtMs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'remaining', ARGV[1], 'starts', ARGV[2], 'ends', ARGV[3],
  'state', ARGV[4], 'expireAt', ARGV[5])
for i = 1, 4 do redis.call('PEXPIREAT', KEYS[i], ARGV[5]) end
return 1
