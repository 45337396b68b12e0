-- Writes an account's standing copy unless the copy already there is newer, and answers the
-- copy that stands. Atomic so that a process that read Postgres just before a change cannot
-- write its older copy over the one the change wrote (server/auth/account-standing.ts).
-- KEYS[1] the copy; ARGV[1] the version read, ARGV[2] the copy (JSON), ARGV[3] its lifetime, ms.
local current = redis.call('GET', KEYS[1])
if current then
  local stored = cjson.decode(current)
  if tonumber(stored.v) > tonumber(ARGV[1]) then return current end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ARGV[2]
