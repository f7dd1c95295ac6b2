--[[
apply-batch: merges committed batches of one partition into its rollups, exactly once and in order.

The mark names the last batch the rollups hold, as "seq:token" (the token is random, written with
the batch in MariaDB, so a batch of another database never passes for it). The deltas are those of
the batches after `expected` up to `batch`: usually one, several when catching up.

A write into a bucket at least two below its level's highest (an event from the past: the bulk
loader, a host whose clock is behind, batches caught up late) sets the level's version in the
levels hash to `batch`: readers keep such closed buckets' sums while the version stays.

KEYS[1]   the partition's mark (absent: the rollups were lost)
KEYS[2]   the partition's levels hash (includes/merge-deltas; 'v'..tag: each level's version)
KEYS[3..] the aggregate hashes the deltas touch
ARGV[1]   the mark the rollups must hold now, "seq:token"
ARGV[2]   the mark they hold after, "seq:token"
ARGV[3]   the deltas' form: 'seconds' (mergeSeconds) or 'hashes' (mergeDeltas)
ARGV[4..] the deltas (includes/merge-deltas)

Returns 'applied', or without changing anything: 'lost' (no mark: rebuild first), 'duplicate'
(the mark is at or past the batch: applied before, or Redis holds batches MariaDB may not have),
'gap' (the mark is before `expected`, or is another batch of that seq).
]]
--- @include "includes/merge-deltas"

local mark = redis.call('GET', KEYS[1])
if not mark then return 'lost' end
if mark ~= ARGV[1] then
  local markSeq = tonumber(string.match(mark, '^(%d+):'))
  local batchSeq = tonumber(string.match(ARGV[2], '^(%d+):'))
  if markSeq and markSeq >= batchSeq then return 'duplicate' end
  return 'gap'
end
redis.call('SET', KEYS[1], ARGV[2])
local lowest, highest
if ARGV[3] == 'seconds' then lowest, highest = mergeSeconds(2, 3, 4) else lowest, highest = mergeDeltas(2, 3, 4) end
for tag, index in pairs(lowest) do
  if index < highest[tag] - 1 then redis.call('HSET', KEYS[2], 'v' .. tag, ARGV[2]) end
end
return 'applied'
