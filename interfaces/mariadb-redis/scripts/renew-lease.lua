--[[
renew-lease: extends a lease that is still ours, or takes it again if it lapsed and no one took
it meanwhile (a writer whose renewals Redis did not answer for a while).

KEYS[1]   the lease
ARGV[1]   the holder's token
ARGV[2]   the lease's time to live, ms

Returns 1 when the lease is ours, 0 when another holder has it.
]]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
