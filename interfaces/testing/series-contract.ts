// The time series part of the data-interface contract (contract-suite.ts runs it on every interface):
// buckets cut at the local boundaries of several zones, across both clock changes of a year, with
// events on the boundaries and one microsecond either side. Expectations come from the Oracle's
// brute force, which shares no code with the interfaces' zones.

import { expect } from 'vitest';
import { LETTERS, type DataInterface, type Letter } from '../contract.ts';
import { SERIES_INTERVALS, type SeriesInterval, type SeriesPoint, type SeriesQuery } from '../series.ts';
import { parseTimestamp, type Micros } from '../time.ts';
import type { Random } from './event-stream.ts';
import { Oracle } from './oracle.ts';

const MINUTE = 60_000_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Case = Omit<SeriesQuery, 'symbol'>;

const utc = (text: string): Micros => parseTimestamp(text) as Micros;
const at = (tz: string, interval: SeriesInterval, lower: string, upper: string): Case => ({ tz, interval, lower: utc(lower), upper: utc(upper) });

/**
 * Series worth asking, in zones of whole, half and three-quarter hour offsets, across clock changes
 * that skip or repeat an hour (Berlin), half an hour (Lord Howe) and a midnight (Santiago), with
 * bounds on and off the grid; and a few near `now`, where the finest buckets of a store are kept.
 */
export function seriesCases(now: Micros): Case[] {
  const recent = Math.floor(now / HOUR) * HOUR;
  return [
    at('UTC', '1h', '2026-10-24 22:30:00.000001', '2026-10-26'),
    at('Europe/Berlin', '1d', '2026-03-26', '2026-04-01'),
    at('Europe/Berlin', '1d', '2026-10-22T22:00:00Z', '2026-10-27T23:00:00Z'),
    at('Europe/Berlin', '1h', '2026-03-28 22:00', '2026-03-29 04:00'),
    at('Europe/Berlin', '1h', '2026-10-24 21:59:59.999999', '2026-10-25 04:00'),
    at('Europe/Berlin', '10m', '2026-10-25 00:05', '2026-10-25 01:35'),
    at('Asia/Kathmandu', '1h', '2026-06-01 00:00', '2026-06-01 06:30'),
    at('Asia/Kathmandu', '1d', '2026-05-30', '2026-06-03 12:00'),
    at('Asia/Kolkata', '10m', '2026-06-01 17:55', '2026-06-01 19:05'),
    at('Asia/Kolkata', '1m', '2026-06-01 17:58:30.5', '2026-06-01 18:09'),
    at('Australia/Lord_Howe', '1h', '2026-04-04 13:00', '2026-04-04 17:00'),
    at('Australia/Lord_Howe', '10m', '2026-10-03 15:00', '2026-10-03 16:00'),
    at('America/Santiago', '1d', '2026-09-04', '2026-09-08'),
    { tz: 'Asia/Kathmandu', interval: '1h', lower: recent - 2 * DAY + 7, upper: recent - DAY },
    { tz: 'Asia/Kolkata', interval: '1m', lower: recent - 3 * HOUR - 1, upper: recent - 2 * HOUR + MINUTE / 2 },
  ];
}

/** Initials of varied letters on every boundary of the cases and 1 µs either side; some with followups. */
export function edgeEvents(cases: Case[], random: Random): { symbol: Letter; ts: Micros; followups: number }[] {
  const empty = new Oracle();
  const times = new Set<Micros>();
  for (const query of cases) {
    for (const { start } of empty.series({ ...query, symbol: null })) for (const ts of [start - 1, start, start + 1]) times.add(ts);
    times.add(query.upper - 1).add(query.upper);
  }
  return [...times].sort((a, b) => a - b).map((ts) => ({ symbol: random.pick(['e', 'e', 't', 'a', 'z'] as const), ts, followups: random.chance(0.3) ? 1 + random.int(3) : 0 }));
}

/** The store's series equals the oracle's, all letters and one, and sums to its range dashboard. */
export async function expectSeriesOf(store: DataInterface, oracle: Oracle, query: SeriesQuery): Promise<void> {
  const answer = await store.series(query);
  const title = `series ${JSON.stringify({ ...query, lower: new Date(query.lower / 1000), upper: new Date(query.upper / 1000) })}`;
  expect(answer, title).toEqual(oracle.series(query));
  const range = (await store.rangeAggregates(query.lower, query.upper)).filter(({ symbol }) => query.symbol === null || symbol === query.symbol);
  expect(sum(answer), `${title} sums to the range dashboard`).toEqual({
    count: range.reduce((total, aggregate) => total + aggregate.count, 0),
    followups: range.reduce((total, aggregate) => total + aggregate.followups, 0),
  });
}

/** Series over a stream of events: whole days, hours of a :45 zone over the whole span, 10 minutes of a :30 zone, each interval from a random event. */
export function streamSeries(random: Random, timestamps: readonly Micros[]): SeriesQuery[] {
  const first = Math.min(...timestamps);
  const last = Math.max(...timestamps);
  const someEvent = () => random.pick(timestamps);
  const queries: SeriesQuery[] = [
    { lower: first, upper: last + 1, interval: '1d', tz: 'UTC', symbol: null },
    { lower: first - DAY, upper: last + DAY, interval: '1h', tz: 'Asia/Kathmandu', symbol: null },
    { lower: first, upper: last + 1, interval: '1d', tz: 'Europe/Berlin', symbol: 'e' },
  ];
  for (const interval of SERIES_INTERVALS) {
    const lower = someEvent();
    const width = { '1m': 2 * HOUR, '10m': DAY, '1h': 5 * DAY, '1d': 20 * DAY }[interval];
    queries.push({ lower, upper: lower + 1 + random.int(width), interval, tz: random.pick(['Asia/Kolkata', 'Europe/Berlin', 'Australia/Adelaide']), symbol: random.chance(0.5) ? null : random.pick(LETTERS) });
  }
  return queries;
}

function sum(points: SeriesPoint[]): { count: number; followups: number } {
  return points.reduce((total, point) => ({ count: total.count + point.count, followups: total.followups + point.followups }), { count: 0, followups: 0 });
}
