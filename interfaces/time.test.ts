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
