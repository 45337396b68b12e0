-- Opens a deal's gate after its claims were copied from Postgres into the users and idem
-- hashes. Writing `meta` is what opens it: the claim script answers NOT_LOADED until `meta`
-- exists, so no attempt can see a half-loaded gate. Only the loader still holding the load
-- lock may open it (a loader whose lock lapsed may have been overtaken by another), and a
-- gate that is already open is left alone.
-- KEYS: meta, users, idem, pending, loadLock
-- ARGV: lockToken, remaining, starts, ends, state, expireAtMs, fenceLat, fenceLng, fenceM,
--       quantity (the fence values are '' for a deal without a geo-fence)
if redis.call('GET', KEYS[5]) ~= ARGV[1] then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'remaining', ARGV[2], 'starts', ARGV[3], 'ends', ARGV[4],
  'state', ARGV[5], 'expireAt', ARGV[6], 'quantity', ARGV[10])
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'fenceLat', ARGV[7], 'fenceLng', ARGV[8], 'fenceM', ARGV[9])
end
for i = 1, 4 do redis.call('PEXPIREAT', KEYS[i], ARGV[6]) end
return 1
