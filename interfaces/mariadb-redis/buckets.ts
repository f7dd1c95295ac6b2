// Time buckets of the rollups and the plan that answers a range from them.
//
// Every initial is counted in one bucket of each level: its second, 10 seconds, minute, 10 minutes,
// hour, 6 hours and day (UTC), and its 8, 32, 256 and 1024-day stretch since 1970 (so that a range
// of years needs few buckets too).
// A range [lower, upper) is answered by the fewest whole buckets that tile it, coarse in the middle
// and finer towards the ends, plus at most two "edges" shorter than the finest bucket usable there,
// which MariaDB answers through its index on the timestamp. So the cost of a range is bounded by
// the number of buckets (a few hundred for any range) and the events of two short edges.
//
// Fine levels are kept for a while only (Redis memory grows with time, not with events):
//   1 s and 10 s buckets 6 hours, 1 min and 10 min buckets 35 days, coarser buckets forever.
// Past a level's retention the plan uses the next coarser level, so its edges get wider.

import type { Micros } from '../time.ts';

export interface Level {
  /** Part of the Redis key. */
  readonly tag: string;
  readonly micros: number;
  /** How long a bucket is kept after it ends; Infinity: forever. */
  readonly retentionMicros: number;
}

const SECOND = 1_000_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Each size divides the next, so buckets of different levels tile a range without overlap. Steps of
// 4 to 10 keep the buckets of a range few (at most 9 of a level at each end).
export const LEVELS: readonly Level[] = [
  { tag: 's', micros: SECOND, retentionMicros: 6 * HOUR },
  { tag: 's10', micros: 10 * SECOND, retentionMicros: 6 * HOUR },
  { tag: 'm', micros: MINUTE, retentionMicros: 35 * DAY },
  { tag: 'm10', micros: 10 * MINUTE, retentionMicros: 35 * DAY },
  { tag: 'h', micros: HOUR, retentionMicros: Infinity },
  { tag: 'h6', micros: 6 * HOUR, retentionMicros: Infinity },
  { tag: 'd', micros: DAY, retentionMicros: Infinity },
  { tag: 'd8', micros: 8 * DAY, retentionMicros: Infinity },
  { tag: 'd32', micros: 32 * DAY, retentionMicros: Infinity },
  { tag: 'd256', micros: 256 * DAY, retentionMicros: Infinity },
  { tag: 'd1024', micros: 1024 * DAY, retentionMicros: Infinity },
];

/**
 * Reads use a fine level only this far inside its retention: covers the clock difference
 * between server processes and a bucket expiring while it is read.
 */
const SAFETY_MICROS = 10 * MINUTE;

export interface BucketRef {
  level: Level;
  /** floor(start / level.micros) */
  index: number;
}

/** The name of a bucket's hash: `<level tag>:<bucket index>` ('total' is the hash of all time). */
export const bucketHash = (tag: string, index: number): string => `${tag}:${index}`;

/** The level tag and index of a bucket's hash; undefined for 'total'. */
export function bucketOf(hash: string): { tag: string; index: number } | undefined {
  const colon = hash.indexOf(':');
  return colon === -1 ? undefined : { tag: hash.slice(0, colon), index: Number(hash.slice(colon + 1)) };
}

export interface RangePlan {
  buckets: BucketRef[];
  /** Short stretches at the two ends, answered from the raw events. */
  edges: [Micros, Micros][];
}

const floorTo = (ts: Micros, size: number) => Math.floor(ts / size) * size;
const ceilTo = (ts: Micros, size: number) => Math.ceil(ts / size) * size;

/** Whether a write at `now` keeps a bucket of this level for an event at `ts`, and until when (unix seconds, 0: forever). */
export function bucketExpiry(level: Level, ts: Micros, now: Micros): { keep: boolean; expireAtSeconds: number } {
  if (level.retentionMicros === Infinity) return { keep: true, expireAtSeconds: 0 };
  const end = floorTo(ts, level.micros) + level.micros;
  const expireAt = end + level.retentionMicros + SAFETY_MICROS;
  return { keep: expireAt > now + SAFETY_MICROS, expireAtSeconds: Math.ceil(expireAt / SECOND) };
}

/**
 * From when on level i may be read at `now`: buckets starting at or after it were written when their
 * events came and have not expired. Levels kept alike share the point, aligned to the first level
 * kept longer, so that the stretches of different finest levels meet on whole buckets.
 */
function readableFrom(i: number, now: Micros): Micros {
  const level = LEVELS[i] as Level;
  if (level.retentionMicros === Infinity) return -Infinity;
  const keptLonger = LEVELS.find((other) => other.retentionMicros > level.retentionMicros) as Level;
  return ceilTo(now - level.retentionMicros + SAFETY_MICROS, keptLonger.micros);
}

export function planRange(lower: Micros, upper: Micros, now: Micros): RangePlan {
  const plan: RangePlan = { buckets: [], edges: [] };
  // Split the range where a finer level becomes readable; each stretch is tiled from its finest level.
  let stretchEnd = upper;
  for (let i = 0; i < LEVELS.length && stretchEnd > lower; i++) {
    const stretchStart = Math.max(lower, readableFrom(i, now));
    if (stretchStart < stretchEnd) tile(stretchStart, stretchEnd, i, plan);
    stretchEnd = Math.min(stretchEnd, stretchStart);
  }
  return plan;
}

/** A series answered from the buckets: each point's group of bucket hashes, and its edges (sorted by start). */
export interface SeriesPlan {
  groups: string[][];
  edges: { point: number; stretch: [Micros, Micros] }[];
}

/** Each point of a series (from each start to the next, the last to `end`) planned as a range. */
export function planSeries(starts: readonly Micros[], end: Micros, now: Micros): SeriesPlan {
  const plan: SeriesPlan = { groups: [], edges: [] };
  starts.forEach((start, point) => {
    const range = planRange(start, starts[point + 1] ?? end, now);
    plan.groups.push(range.buckets.map((bucket) => bucketHash(bucket.level.tag, bucket.index)));
    for (const stretch of range.edges) plan.edges.push({ point, stretch });
  });
  plan.edges.sort((a, b) => a.stretch[0] - b.stretch[0]);
  return plan;
}

function tile(start: Micros, end: Micros, finest: number, plan: RangePlan): void {
  const size = (LEVELS[finest] as Level).micros;
  let lo = ceilTo(start, size);
  let hi = floorTo(end, size);
  if (lo >= hi) {
    plan.edges.push([start, end]);
    return;
  }
  if (start < lo) plan.edges.push([start, lo]);
  if (hi < end) plan.edges.push([hi, end]);
  for (let i = finest; i < LEVELS.length; i++) {
    const level = LEVELS[i] as Level;
    const next = LEVELS[i + 1];
    const innerLo = next ? ceilTo(lo, next.micros) : hi;
    const innerHi = next ? floorTo(hi, next.micros) : hi;
    if (!next || innerLo >= innerHi) {
      pushBuckets(level, lo, hi, plan);
      return;
    }
    pushBuckets(level, lo, innerLo, plan);
    pushBuckets(level, innerHi, hi, plan);
    lo = innerLo;
    hi = innerHi;
  }
}

function pushBuckets(level: Level, start: Micros, end: Micros, plan: RangePlan): void {
  for (let index = start / level.micros; index < end / level.micros; index++) plan.buckets.push({ level, index });
}
