--[[
rebuild-chunk: merges a chunk of a rebuild's sums while its lease is ours, and extends the lease.

KEYS[1]   the partition's rebuild lease
KEYS[2]   the partition's levels hash (includes/merge-deltas)
KEYS[3..] the aggregate hashes the chunk touches
ARGV[1]   the rebuilder's token
ARGV[2]   the lease's time to live, ms
ARGV[3..] the deltas (includes/merge-deltas)

Returns 'applied', or 'stale' (the lease is no longer ours) without changing anything.
]]
--- @include "includes/merge-deltas"

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'stale' end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
mergeDeltas(2, 3, 3)
return 'applied'
