-- Counts a hit in a fixed window. INCR and the first PEXPIRE must happen together, or a
-- crash between them would leave a counter that never expires and locks the key out forever.
-- KEYS: counter   ARGV: windowMs   returns {count, ms until the window resets}
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
