--[[
apply: merges a batch's deltas into one partition's rollups, exactly once and in order.

All keys share the partition's hash tag, so on Redis Cluster the script runs on one node.

KEYS[1]   the partition's mark: seq of the last batch applied (absent: the rollups were lost)
KEYS[2]   the partition's rebuild lease (holds the rebuilder's token while it rebuilds)
KEYS[3..] the aggregate hashes the batch touches (the totals, one bucket per level)

ARGV[1]   the mode:
          'batch'   ARGV[2] the batch's seq: apply if it is the next one, and move the mark to it;
          'rebuild' ARGV[2] the rebuilder's lease token: apply while the lease is ours, and extend it;
          'finish'  ARGV[2] the lease token, ARGV[3] the seq the rebuilt rollups hold: set the mark
                    to it and drop the lease (KEYS[3..] unused)
ARGV[3..] ('batch', 'rebuild') for each of KEYS[3..], in order: expireAt (unix seconds, 0: never),
          n, then n groups of letter, count, followups, lo, hi (lo, hi in microseconds; ignored
          when count is 0)

Hash fields: 'c'..letter count, 'f'..letter followups, 'l'..letter earliest, 'h'..letter latest.

Returns 'applied', or without changing anything: 'duplicate' (seq <= mark: applied before),
'gap' (seq > mark + 1: apply the missing batches first), 'lost' (no mark: rebuild first),
'stale' (rebuild: the lease is no longer ours).
]]
local mode = ARGV[1]
if mode == 'batch' then
  local mark = redis.call('GET', KEYS[1])
  if not mark then return 'lost' end
  local seq = tonumber(ARGV[2])
  mark = tonumber(mark)
  if seq <= mark then return 'duplicate' end
  if seq > mark + 1 then return 'gap' end
  redis.call('SET', KEYS[1], ARGV[2])
elseif redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return 'stale'
elseif mode == 'finish' then
  redis.call('SET', KEYS[1], ARGV[3])
  redis.call('DEL', KEYS[2])
  return 'applied'
else
  redis.call('PEXPIRE', KEYS[2], 60000)
end

local a = 3
for k = 3, #KEYS do
  local key = KEYS[k]
  local expireAt = tonumber(ARGV[a])
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  for _ = 1, n do
    local letter, count, followups, lo, hi = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
    a = a + 5
    if count ~= '0' then
      redis.call('HINCRBY', key, 'c' .. letter, count)
      local old = redis.call('HMGET', key, 'l' .. letter, 'h' .. letter)
      local earlier = not old[1] or tonumber(lo) < tonumber(old[1])
      local later = not old[2] or tonumber(hi) > tonumber(old[2])
      if earlier and later then
        redis.call('HSET', key, 'l' .. letter, lo, 'h' .. letter, hi)
      elseif earlier then
        redis.call('HSET', key, 'l' .. letter, lo)
      elseif later then
        redis.call('HSET', key, 'h' .. letter, hi)
      end
    end
    if followups ~= '0' then redis.call('HINCRBY', key, 'f' .. letter, followups) end
  end
  if expireAt > 0 then redis.call('EXPIREAT', key, expireAt) end
end
return 'applied'
