-- Releases a lock only if this holder still owns it (compare and delete in one step), so a
-- holder whose lock expired cannot delete the lock a second holder took since.
-- KEYS: lock   ARGV: token
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
