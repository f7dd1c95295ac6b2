// The buckets of a time series (GET /dashboard/series): cut at the local boundaries of a time zone.
// A boundary is an instant whose wall time in the zone is on the interval's grid (a whole minute,
// 10 minutes, hour, or midnight). So a wall time a clock change skips starts no bucket (its bucket
// joins the one before), one it repeats starts a bucket at each occurrence, and a day is 23, 24 or
// 25 hours. The first bucket starts at the series' lower bound, the last ends at its upper bound.

import type { Letter } from './contract.ts';
import type { Micros } from './time.ts';
import { TimeZone } from './time-zone.ts';

export const SERIES_INTERVALS = ['1m', '10m', '1h', '1d'] as const;
export type SeriesInterval = (typeof SERIES_INTERVALS)[number];

/** The most points a series has; a longer one is refused (a coarser interval fits). */
export const MAX_SERIES_POINTS = 10_000;

const MINUTE = 60_000_000;
/** Each interval's length on the local clock. */
export const INTERVAL_MICROS: Record<SeriesInterval, number> = { '1m': MINUTE, '10m': 10 * MINUTE, '1h': 60 * MINUTE, '1d': 1440 * MINUTE };

export function isSeriesInterval(value: string): value is SeriesInterval {
  return (SERIES_INTERVALS as readonly string[]).includes(value);
}

/** A series asked for: initials with lower <= ts < upper, in buckets of `interval` in zone `tz`. */
export interface SeriesQuery {
  lower: Micros;
  upper: Micros;
  interval: SeriesInterval;
  /** An IANA zone name (isTimeZone). */
  tz: string;
  /** One letter, or null: all letters together. */
  symbol: Letter | null;
}

/** One bucket: its start, its initials, and their followups whenever they came. */
export interface SeriesPoint {
  start: Micros;
  count: number;
  followups: number;
}

/**
 * The buckets' starts, in order: `lower`, then every local boundary in (lower, upper). Undefined
 * when there would be more than `limit` (without finding them all: a range of years at 1m is
 * refused at once).
 */
export function seriesStarts(query: Omit<SeriesQuery, 'symbol'>, limit = MAX_SERIES_POINTS): Micros[] | undefined {
  const { lower, upper, interval } = query;
  const size = INTERVAL_MICROS[interval];
  // A bucket is at most its size plus the clock changes within it: twice the limit is surely too many.
  if ((upper - lower) / size > 2 * limit + 2) return undefined;
  const starts = [lower];
  for (const { from, to, offsetSeconds } of TimeZone.of(query.tz).stretches(lower, upper)) {
    const offset = offsetSeconds * 1_000_000;
    // Instants whose wall time (ts + offset) is a multiple of the size, in [from, to), after lower.
    for (let ts = Math.ceil((Math.max(from, lower + 1) + offset) / size) * size - offset; ts < to; ts += size) {
      if (starts.length === limit) return undefined;
      starts.push(ts);
    }
  }
  return starts;
}

/** seriesStarts of a query already checked to fit (the server refuses the others): more is the caller's error. */
export function checkedStarts(query: Omit<SeriesQuery, 'symbol'>): Micros[] {
  const starts = seriesStarts(query);
  if (starts === undefined) throw new RangeError(`a series of more than ${MAX_SERIES_POINTS} points was asked for`);
  return starts;
}

/** The finest interval coarser than `interval` whose series fits, if any. */
export function coarserFitting(query: Omit<SeriesQuery, 'symbol'>): SeriesInterval | undefined {
  return SERIES_INTERVALS.slice(SERIES_INTERVALS.indexOf(query.interval) + 1).find((interval) => seriesStarts({ ...query, interval }) !== undefined);
}

/** The index of the bucket that holds `ts` (starts[0] <= ts), by binary search. */
export function bucketOfTs(starts: readonly Micros[], ts: Micros): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if ((starts[mid] as Micros) <= ts) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Zeros at each start: the points before anything is counted. */
export const emptyPoints = (starts: readonly Micros[]): SeriesPoint[] => starts.map((start) => ({ start, count: 0, followups: 0 }));
