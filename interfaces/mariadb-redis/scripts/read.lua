--[[
read: sums aggregate hashes of one partition, next to the data, so that only 26 letters cross the wire.

KEYS[1]   the partition's mark (only its presence is read: absent means the rollups were lost)
KEYS[2..] aggregate hashes to sum (absent ones count as empty)

Returns { 1 if the mark is present else 0, then for each letter found:
          letter, count, followups, earliest, latest } (earliest/latest as strings, '' when no initial).
]]
local sums, letters = {}, {}
for i = 2, #KEYS do
  local flat = redis.call('HGETALL', KEYS[i])
  for j = 1, #flat, 2 do
    local kind, letter, value = string.sub(flat[j], 1, 1), string.sub(flat[j], 2, 2), flat[j + 1]
    local s = sums[letter]
    if not s then
      s = { count = 0, followups = 0, lo = false, hi = false }
      sums[letter] = s
      letters[#letters + 1] = letter
    end
    if kind == 'c' then
      s.count = s.count + tonumber(value)
    elseif kind == 'f' then
      s.followups = s.followups + tonumber(value)
    elseif kind == 'l' then
      if not s.lo or tonumber(value) < tonumber(s.lo) then s.lo = value end
    elseif kind == 'h' then
      if not s.hi or tonumber(value) > tonumber(s.hi) then s.hi = value end
    end
  end
end
local out = { redis.call('EXISTS', KEYS[1]) }
for _, letter in ipairs(letters) do
  local s = sums[letter]
  out[#out + 1] = letter
  out[#out + 1] = s.count
  out[#out + 1] = s.followups
  out[#out + 1] = s.lo or ''
  out[#out + 1] = s.hi or ''
end
return out
