--[[
read-series: one partition's counts for the buckets of a time series, with the mark they belong
to, in one atomic step. Each point of the series is a group of aggregate hashes (the buckets that
tile it); the script sums each group's initials and followups, of one letter or of all, next to
the data, so two numbers per point cross the wire instead of 26 letters' fields per hash.

KEYS[1]   the partition's mark, "seq:token": the last batch the sums include (absent: lost)
KEYS[2..] aggregate hashes (absent ones count as empty), group after group
ARGV[1]   the letter to count, or '' for all letters together
ARGV[2..] the number of hashes in each group, in order

Returns, as one JSON text, [ the mark or false, [count, followups] of each group in order,
flattened ]; counts as decimal strings (cjson's 14 digits would round large ones).
]]
local letter = ARGV[1]
local out = {}
local k = 2
for g = 2, #ARGV do
  local count, followups = 0, 0
  for _ = 1, tonumber(ARGV[g]) do
    if letter ~= '' then
      local values = redis.call('HMGET', KEYS[k], 'c' .. letter, 'f' .. letter)
      count = count + (tonumber(values[1]) or 0)
      followups = followups + (tonumber(values[2]) or 0)
    else
      local flat = redis.call('HGETALL', KEYS[k])
      for j = 1, #flat, 2 do
        local kind = string.byte(flat[j]) -- 'c' = 99, 'f' = 102; 'l', 'h' are times
        if kind == 99 then
          count = count + tonumber(flat[j + 1])
        elseif kind == 102 then
          followups = followups + tonumber(flat[j + 1])
        end
      end
    end
    k = k + 1
  end
  out[#out + 1] = string.format('%.0f', count)
  out[#out + 1] = string.format('%.0f', followups)
end
return cjson.encode({ redis.call('GET', KEYS[1]), out })
