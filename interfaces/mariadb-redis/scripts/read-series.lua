--[[
read-series: one partition's counts for the points of a time series, with the mark they belong
to, in one atomic step. A point is tiled by buckets: the ones that may still change are summed
here, initials and followups of one letter or of all, next to the data, so that three numbers a
point cross the wire instead of 26 letters' fields a bucket; closed ones the reader keeps come
whole (or not at all, once it holds them).

KEYS[1]   the partition's mark
KEYS[2]   the partition's levels hash
KEYS[3..] aggregate hashes (absent ones count as empty): ARGV[2] of them to sum, then the others
ARGV[1]   the letter to count, or '' for all letters together
ARGV[2]   how many of the hashes to sum
ARGV[3..] for each of those, the point it counts into

Returns placedRead's answer (includes/placed-read.lua) with the sums as point, count, followups
of each point that hashes were summed into.
]]
--- @include "includes/placed-read"
local letter = ARGV[1]
local summed = tonumber(ARGV[2])
local points, counts, followups = {}, {}, {}
for i = 1, summed do
  local count, followup = 0, 0
  if letter ~= '' then
    local values = redis.call('HMGET', KEYS[2 + i], 'c' .. letter, 'f' .. letter)
    count, followup = tonumber(values[1]) or 0, tonumber(values[2]) or 0
  else
    local flat = redis.call('HGETALL', KEYS[2 + i])
    for j = 1, #flat, 2 do
      local kind = string.byte(flat[j]) -- 'c' = 99, 'f' = 102; 'l', 'h' are times
      if kind == 99 then
        count = count + tonumber(flat[j + 1])
      elseif kind == 102 then
        followup = followup + tonumber(flat[j + 1])
      end
    end
  end
  local point = ARGV[2 + i]
  if counts[point] == nil then
    points[#points + 1] = point
    counts[point], followups[point] = count, followup
  else
    counts[point], followups[point] = counts[point] + count, followups[point] + followup
  end
end
local sums = {}
for _, point in ipairs(points) do
  sums[#sums + 1] = point
  sums[#sums + 1] = string.format('%.0f', counts[point])
  sums[#sums + 1] = string.format('%.0f', followups[point])
end
return placedRead(sums, 3 + summed)
