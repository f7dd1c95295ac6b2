--[[
release-lease: drops a lease if it is still ours: a rebuild lease of a rebuild that failed
half-way (the partition stays without a mark, so the next apply or read starts a rebuild again),
or a writer's claim on its partition when the writer closes.

KEYS[1]   the lease
ARGV[1]   the holder's token

Returns 1 when it was ours and is dropped, else 0.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
