--[[
read: sums aggregate hashes of one partition next to the data, so only 26 letters cross the wire,
with the mark they belong to, in one atomic step.

KEYS[1]   the partition's mark, "seq:token": the last batch the sums include (absent: lost)
KEYS[2..] aggregate hashes to sum (absent ones count as empty)

Returns { the mark or false, then field, value pairs }: the fields of the hashes
('c'..letter count and 'f'..letter followups summed, 'l'..letter earliest the smallest,
'h'..letter latest the largest), values as integers (microseconds fit: below 2^53).
]]
local sums, fields = {}, {}
for i = 2, #KEYS do
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
local out = { redis.call('GET', KEYS[1]) }
for _, field in ipairs(fields) do
  out[#out + 1] = field
  out[#out + 1] = sums[field]
end
return out
