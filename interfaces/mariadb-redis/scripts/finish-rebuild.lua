--[[
finish-rebuild: ends a rebuild: the mark names the last batch the rebuilt rollups hold, and the
lease is dropped; applies of later batches then go on top. The levels hash gets the lease's token
as its base, so that no sums kept by readers from before the rebuild pass for the new ones.

KEYS[1]   the partition's mark
KEYS[2]   the partition's rebuild lease
KEYS[3]   the partition's levels hash
ARGV[1]   the rebuilder's token
ARGV[2]   the mark, "seq:token" ("0:0" for a partition without batches)

Returns 'applied', or 'stale' (the lease is no longer ours) without changing anything.
]]
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'stale' end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[3], 'base', ARGV[1])
redis.call('DEL', KEYS[2])
return 'applied'
