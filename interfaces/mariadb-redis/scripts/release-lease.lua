--[[
release-lease: drops a rebuild lease if it is still ours (a rebuild that failed half-way). The
partition stays without a mark, so the next apply or read starts a rebuild again.

KEYS[1]   the partition's rebuild lease
ARGV[1]   the rebuilder's token

Returns 1 when it was ours and is dropped, else 0.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
