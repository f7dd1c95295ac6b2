--[[
read: one partition's aggregate hashes with the mark they belong to, in one atomic step. The
first hashes are summed next to the data, so only 26 letters cross the wire; the others (closed
buckets the reader keeps) come whole.

KEYS[1]   the partition's mark
KEYS[2]   the partition's levels hash
KEYS[3..] aggregate hashes (absent ones count as empty): ARGV[1] of them to sum, then the others
ARGV[1]   how many of the hashes to sum

Returns placedRead's answer (includes/placed-read.lua) with the sums as field, value pairs:
'c'..letter count and 'f'..letter followups summed, 'l'..letter earliest the smallest, 'h'..letter
latest the largest.
]]
--- @include "includes/placed-read"
local summed = tonumber(ARGV[1])
local sums, fields = {}, {}
for i = 3, 2 + summed do
  local flat = redis.call('HGETALL', KEYS[i])
  for j = 1, #flat, 2 do
    local field, value = flat[j], tonumber(flat[j + 1])
    local old = sums[field]
    if old == nil then
      sums[field] = value
      fields[#fields + 1] = field
    else
      local kind = string.byte(field) -- 'l' = 108, 'h' = 104, else a sum
      if kind == 108 then
        if value < old then sums[field] = value end
      elseif kind == 104 then
        if value > old then sums[field] = value end
      else
        sums[field] = old + value
      end
    end
  end
end
local flatSums = {}
for _, field in ipairs(fields) do
  flatSums[#flatSums + 1] = field
  flatSums[#flatSums + 1] = string.format('%.0f', sums[field])
end
return placedRead(flatSums, 3 + summed)
