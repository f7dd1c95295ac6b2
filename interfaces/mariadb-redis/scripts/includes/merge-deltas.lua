--[[
Merges deltas into aggregate hashes: the shared part of apply-batch and rebuild-chunk.

KEYS[levels]  the partition's levels hash: 't'..tag, the highest bucket index written of each level
KEYS[first..] the aggregate hashes (the totals, one bucket per level)
ARGV[a..]     for each of those keys, in order: expireAt (unix seconds, 0: never), the level's tag
              and the bucket's index ('' and 0 for the totals), n, then n groups of letter, count,
              followups, lo, hi (lo, hi in microseconds; ignored when count is 0)

Hash fields: 'c'..letter count, 'f'..letter followups, 'l'..letter earliest, 'h'..letter latest.

Returns the levels written: tag -> the lowest bucket index written, and each level's highest
index afterwards, tag -> index.
]]
local function mergeDeltas(levels, first, a)
  local lowest, highest = {}, {}
  for k = first, #KEYS do
    local key = KEYS[k]
    local expireAt = tonumber(ARGV[a])
    local tag, index = ARGV[a + 1], tonumber(ARGV[a + 2])
    local n = tonumber(ARGV[a + 3])
    a = a + 4
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
    if tag ~= '' then
      if lowest[tag] == nil or index < lowest[tag] then lowest[tag] = index end
      if highest[tag] == nil then highest[tag] = tonumber(redis.call('HGET', KEYS[levels], 't' .. tag)) or index end
      if index > highest[tag] then highest[tag] = index end
    end
  end
  for tag, index in pairs(highest) do redis.call('HSET', KEYS[levels], 't' .. tag, index) end
  return lowest, highest
end
