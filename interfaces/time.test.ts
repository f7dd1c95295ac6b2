import { describe, expect, it } from 'vitest';
import { formatMicros, parseTimestamp, timestampError } from './time.ts';

const MAX = Number.MAX_SAFE_INTEGER;
const SPAN = 'use a date from 1684-07-28 00:12:25.259009 to 2255-06-05 23:47:34.740991 (UTC)';

describe('parseTimestamp', () => {
  it.each([
    ['1684-07-28 00:12:25.259009', -MAX],
    ['1684-07-28T00:12:25.259010Z', -MAX + 1],
    ['1684-07-29', -MAX + 85_654_740_991],
    ['2255-06-05', MAX - 85_654_740_991],
    ['2255-06-05 23:47:34.74099', MAX - 1],
    ['2255-06-05 23:47:34.740991', MAX],
  ])('reads %s exactly, at the edge of the span', (text, micros) => {
    expect(parseTimestamp(text)).toBe(micros);
  });

  it.each(['1684-07-28 00:12:25.259008', '1684-07-28', '2255-06-05 23:47:34.740992', '2255-06-06', '2300-01-01', '9999-12-31'])(
    'refuses %s, outside the span',
    (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
    },
  );

  it('reads back what formatMicros prints, for every microsecond at both edges and across a whole second', () => {
    // The first and last 2000 µs, and 1000 µs either side of the first and last whole seconds.
    for (const start of [-MAX, -MAX + 740_991 - 1000, MAX - 740_991 - 1000, MAX - 1999]) {
      for (let ts = start; ts < start + 2000; ts++) expect(parseTimestamp(formatMicros(ts))).toBe(ts);
    }
  });
});

describe('timestampError', () => {
  it('says which formats are accepted for a malformed or impossible date', () => {
    expect(timestampError('lower "2017-02-30"', '2017-02-30')).toMatch(/^lower "2017-02-30" is not a valid date: use YYYY-MM-DD/);
  });

  it('states the span for a date outside it', () => {
    expect(timestampError('upper "2300-01-01"', '2300-01-01')).toBe(
      `upper "2300-01-01" is outside the span of exact timestamps: ${SPAN}`,
    );
  });
});

describe('parseTimestamp with an offset from UTC', () => {
  const utc = (text: string) => parseTimestamp(text) as number;

  it.each([
    ['2026-11-23T10:00+02:00', '2026-11-23 08:00'],
    ['2026-11-23 10:00-05:30', '2026-11-23 15:30'],
    ['2026-11-23T00:30:00+01:00', '2026-11-22 23:30'],
    ['2026-11-23T10:00:00.000001+00:00', '2026-11-23 10:00:00.000001'],
    ['2026-11-23T23:59:59.999999-23:59', '2026-11-24 23:58:59.999999'],
  ])('reads %s as %s UTC, to the microsecond', (text, inUtc) => {
    expect(utc(text)).toBe(utc(inUtc));
  });

  it('keeps microsecond neighbours apart across the offset', () => {
    expect(utc('2026-10-25T02:59:59.999999+02:00') + 1).toBe(utc('2026-10-25T01:00:00Z'));
  });

  it('reads a + right after the date as the space a form encoder made of it; a + after a time stays an offset', () => {
    expect(utc('2026-11-23+02:00')).toBe(utc('2026-11-23 02:00'));
    expect(utc('2026-12-05+07:04:51.5')).toBe(utc('2026-12-05 07:04:51.5'));
    expect(utc('2026-12-05+07:04:51+02:00')).toBe(utc('2026-12-05T05:04:51Z'));
  });

  it.each(['2026-11-23++02:00', '2026-11-23T10:00+02:00Z', '2026-11-23T10:00+24:00', '2026-11-23T10:00+02:60', '2026-11-23T10:00+0200', '2026-11-23T10:00 02:00'])(
    'refuses %s',
    (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
      expect(timestampError('lower', text)).toMatch(/is not a valid date: use .*offset "\+HH:MM"/);
    },
  );

  it('refuses an offset that moves an instant out of the exact span, and says so', () => {
    expect(parseTimestamp('2255-06-05 23:47:34.740991+00:00')).toBe(MAX);
    expect(parseTimestamp('2255-06-05 23:47:34.740991-00:01')).toBeUndefined();
    expect(timestampError('upper', '2255-06-05 23:47:34.740991-00:01')).toMatch(/outside the span/);
  });
});
