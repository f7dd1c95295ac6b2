import { describe, expect, it } from 'vitest';
import { bucketOfTs, coarserFitting, MAX_SERIES_POINTS, seriesStarts } from './series.ts';
import { parseTimestamp } from './time.ts';

const MINUTE = 60_000_000;
const DAY = 1440 * MINUTE;
const lower = parseTimestamp('2026-06-01')!;

describe('seriesStarts', () => {
  it('finds up to the limit, and refuses one more', () => {
    const fits = { lower, upper: lower + MAX_SERIES_POINTS * MINUTE, interval: '1m', tz: 'UTC' } as const;
    expect(seriesStarts(fits)).toHaveLength(MAX_SERIES_POINTS);
    expect(seriesStarts({ ...fits, upper: fits.upper + 1 })).toBeUndefined();
    expect(seriesStarts({ ...fits, upper: fits.upper + 1 }, MAX_SERIES_POINTS + 1)).toHaveLength(MAX_SERIES_POINTS + 1);
  });

  it('refuses centuries at 1m', () => {
    expect(seriesStarts({ lower: parseTimestamp('1700-01-01')!, upper: parseTimestamp('2250-01-01')!, interval: '1m', tz: 'Europe/Berlin' })).toBeUndefined();
  });

  it('gives a single bucket when no boundary falls inside, and one starting at lower when lower is on one', () => {
    expect(seriesStarts({ lower: lower + 1, upper: lower + MINUTE, interval: '1m', tz: 'UTC' })).toEqual([lower + 1]);
    expect(seriesStarts({ lower, upper: lower + MINUTE + 1, interval: '1m', tz: 'UTC' })).toEqual([lower, lower + MINUTE]);
  });
});

describe('coarserFitting', () => {
  it('names the finest coarser interval that fits, if any', () => {
    expect(coarserFitting({ lower, upper: lower + 30 * DAY, interval: '1m', tz: 'Asia/Kathmandu' })).toBe('10m');
    expect(coarserFitting({ lower, upper: lower + 100 * DAY, interval: '1m', tz: 'Asia/Kathmandu' })).toBe('1h');
    expect(coarserFitting({ lower, upper: lower + 30 * 366 * DAY, interval: '1h', tz: 'Asia/Kathmandu' })).toBeUndefined();
  });
});

describe('bucketOfTs', () => {
  it('finds the last start at or before a time', () => {
    const starts = [10, 20, 30];
    expect([10, 19, 20, 21, 29, 30, 1000].map((ts) => bucketOfTs(starts, ts))).toEqual([0, 0, 1, 1, 1, 2, 2]);
    expect(bucketOfTs([5], 7)).toBe(0);
  });
});
