--[[
begin-rebuild: takes a partition's rebuild lease and drops its mark, so that applies wait
('lost') and reads answer 503 until the rebuild ends; unless the mark is no longer the one that
called for the rebuild (another process mended the partition meanwhile).

KEYS[1]   the partition's mark
KEYS[2]   the partition's rebuild lease
ARGV[1]   the rebuilder's token
ARGV[2]   the lease's time to live, ms (each chunk extends it)
ARGV[3]   the mark that called for the rebuild ('' for none)

Returns 1 when the lease is ours, 0 when another rebuilder holds it, 2 when the mark moved on.
]]
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[3] then return 2 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
