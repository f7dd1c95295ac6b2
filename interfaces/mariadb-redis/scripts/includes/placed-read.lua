--[[
The answer of a read (read, read-series): the mark and the levels hash the read belongs to, what
the script summed, then each hash from KEYS[first] on, whole, as one JSON text (decoded at once by
the reader, where a reply of hundreds of values would cost it more than the whole read costs Redis).

KEYS[1]  the partition's mark, "seq:token": the last batch the sums include (absent: lost)
KEYS[2]  the partition's levels hash ('base', each level's highest bucket 't'..tag and version 'v'..tag)

Returns [ the mark or false, the levels hash's field, value pairs, sums, then each hash's field,
value pairs ]; an empty list comes as {}. Numbers go as decimal strings: microseconds fit in a Lua
number exactly, below 2^53, but not in cjson's 14 digits.
]]
local function placedRead(sums, first)
  local out = { redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[2]), sums }
  for i = first, #KEYS do out[#out + 1] = redis.call('HGETALL', KEYS[i]) end
  return cjson.encode(out)
end
