--[[
delete-aggregates: deletes a page of a partition's aggregate hashes at the start of a rebuild,
while the rebuild lease is ours.

KEYS[1]   the partition's rebuild lease
KEYS[2..] the hashes to delete
ARGV[1]   the rebuilder's token

Returns 'deleted', or 'stale' (the lease is no longer ours) without changing anything.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'stale' end
redis.call('DEL', unpack(KEYS, 2))
return 'deleted'
