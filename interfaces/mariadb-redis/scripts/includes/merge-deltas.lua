--[[
Merges deltas into aggregate hashes: the shared part of apply-batch and rebuild-chunk.

KEYS[levels]  the partition's levels hash: 't'..tag, the highest bucket index written of each level
KEYS[first..] the aggregate hashes (the totals, one bucket per level)
ARGV[a..]     for each of those keys, in order: expireAt (unix seconds, 0: never), the level's tag
              and the bucket's index ('' and 0 for the totals), then the deltas in one of two forms:
  mergeDeltas   per key: n, then n groups of letter, count, followups, lo, hi (each key's own sums)
  mergeSeconds  per key: the level's bucket size in seconds (0 for the totals); then, after the
                last key, groups of second, letter, count, followups, lo, hi: the sums of one letter
                in one second, added here to every key whose bucket holds that second (the same
                deltas in fewer arguments when a batch's events fall in few seconds)
lo, hi are in microseconds, ignored when count is 0.

Hash fields: 'c'..letter count, 'f'..letter followups, 'l'..letter earliest, 'h'..letter latest.

Both return the levels written: tag -> the lowest bucket index written, and each level's highest
index afterwards, tag -> index.
]]

-- Adds a letter's deltas to `letters` (letter -> { count, followups, lo, hi }).
local function addLetter(letters, letter, count, followups, lo, hi)
  local sums = letters[letter]
  if not sums then
    letters[letter] = { count, followups, lo, hi }
  else
    sums[1], sums[2] = sums[1] + count, sums[2] + followups
    if count > 0 then
      if sums[1] == count or lo < sums[3] then sums[3] = lo end
      if sums[1] == count or hi > sums[4] then sums[4] = hi end
    end
  end
end

-- Merges `letters` into one hash, a few calls per letter. (Reading and writing all the letters'
-- fields in one call each was measured to cost Redis more, not less: a small hash is one list,
-- scanned once per field either way.)
local function mergeLetters(key, expireAt, letters)
  for letter, sums in pairs(letters) do
    local count, followups, lo, hi = sums[1], sums[2], sums[3], sums[4]
    if count > 0 then
      redis.call('HINCRBY', key, 'c' .. letter, count)
      local old = redis.call('HMGET', key, 'l' .. letter, 'h' .. letter)
      local earlier = not old[1] or lo < tonumber(old[1])
      local later = not old[2] or hi > tonumber(old[2])
      if earlier and later then
        redis.call('HSET', key, 'l' .. letter, string.format('%d', lo), 'h' .. letter, string.format('%d', hi))
      elseif earlier then
        redis.call('HSET', key, 'l' .. letter, string.format('%d', lo))
      elseif later then
        redis.call('HSET', key, 'h' .. letter, string.format('%d', hi))
      end
    end
    if followups > 0 then redis.call('HINCRBY', key, 'f' .. letter, followups) end
  end
  if expireAt > 0 then redis.call('EXPIREAT', key, expireAt) end
end

-- Merges each hash's letters, and moves each level's highest index in the levels hash.
local function mergeHashes(levels, hashes)
  local lowest, written = {}, {}
  for _, hash in ipairs(hashes) do
    mergeLetters(hash.key, hash.expireAt, hash.letters)
    local tag, index = hash.tag, hash.index
    if tag ~= '' then
      if lowest[tag] == nil or index < lowest[tag] then lowest[tag] = index end
      if written[tag] == nil or index > written[tag] then written[tag] = index end
    end
  end
  local tags, fields = {}, {}
  for tag in pairs(written) do tags[#tags + 1], fields[#fields + 1] = tag, 't' .. tag end
  if #tags == 0 then return lowest, {} end
  local before = redis.call('HMGET', KEYS[levels], unpack(fields))
  local highest, changed = {}, {}
  for i, tag in ipairs(tags) do
    local old = tonumber(before[i])
    highest[tag] = old and math.max(old, written[tag]) or written[tag]
    if highest[tag] ~= old then changed[#changed + 1], changed[#changed + 2] = fields[i], string.format('%d', highest[tag]) end
  end
  if #changed > 0 then redis.call('HSET', KEYS[levels], unpack(changed)) end
  return lowest, highest
end

-- One letter's deltas of ARGV from `a` on.
local function letterAt(a)
  return ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
end

local function mergeDeltas(levels, first, a)
  local hashes = {}
  for k = first, #KEYS do
    local hash = { key = KEYS[k], expireAt = tonumber(ARGV[a]), tag = ARGV[a + 1], index = tonumber(ARGV[a + 2]), letters = {} }
    local n = tonumber(ARGV[a + 3])
    a = a + 4
    for _ = 1, n do
      addLetter(hash.letters, letterAt(a))
      a = a + 5
    end
    hashes[#hashes + 1] = hash
  end
  return mergeHashes(levels, hashes)
end

local function mergeSeconds(levels, first, a)
  -- byBucket[tag][index]: the hash of that bucket ('' and 0: the totals); sizes[tag]: its seconds
  local hashes, byBucket, sizes = {}, {}, {}
  for k = first, #KEYS do
    local hash = { key = KEYS[k], expireAt = tonumber(ARGV[a]), tag = ARGV[a + 1], index = tonumber(ARGV[a + 2]), letters = {} }
    local seconds = tonumber(ARGV[a + 3])
    a = a + 4
    hashes[#hashes + 1] = hash
    if not byBucket[hash.tag] then byBucket[hash.tag] = {} end
    byBucket[hash.tag][hash.index] = hash
    if hash.tag ~= '' then sizes[hash.tag] = seconds end
  end
  local totals = byBucket[''] and byBucket[''][0]
  for g = a, #ARGV, 6 do
    local second = tonumber(ARGV[g])
    local letter, count, followups, lo, hi = letterAt(g + 1)
    -- A level's bucket of this second is not among the keys when the level no longer keeps it.
    for tag, seconds in pairs(sizes) do
      local hash = byBucket[tag][math.floor(second / seconds)]
      if hash then addLetter(hash.letters, letter, count, followups, lo, hi) end
    end
    if totals then addLetter(totals.letters, letter, count, followups, lo, hi) end
  end
  return mergeHashes(levels, hashes)
end
