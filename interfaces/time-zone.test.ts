import { describe, expect, it } from 'vitest';
import { Random } from './testing/event-stream.ts';
import { formatMicros, formatWithOffset, parseTimestamp } from './time.ts';
import { isTimeZone, TimeZone } from './time-zone.ts';

const HOUR = 3_600_000_000;
const utc = (text: string) => parseTimestamp(text) as number;

describe('isTimeZone', () => {
  it.each(['UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'])('knows %s', (name) => {
    expect(isTimeZone(name)).toBe(true);
  });

  it.each(['', 'Europe/Nowhere', '+05:30', '-03:00', 'Mars/Olympus_Mons', '../etc/passwd'])('refuses %j', (name) => {
    expect(isTimeZone(name)).toBe(false);
  });
});

describe('TimeZone', () => {
  it('has the offset Intl has, at every hour of 2026 and around its changes, in zones of :00, :30 and :45', () => {
    for (const name of ['Europe/Berlin', 'Asia/Kathmandu', 'Australia/Adelaide', 'Australia/Lord_Howe', 'America/Santiago']) {
      const zone = TimeZone.of(name);
      const intl = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
      for (let ts = utc('2026-01-01'); ts < utc('2027-01-01'); ts += HOUR / 4) {
        const printed = intl.formatToParts(ts / 1000).find((part) => part.type === 'timeZoneName')!.value; // GMT+05:45
        const [, sign, hh, mm] = /^GMT(?:([+-])(\d\d):(\d\d))?$/.exec(printed)!;
        const expected = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(hh) * 3600 + Number(mm) * 60);
        expect(zone.offsetAt(ts), `${name} at ${new Date(ts / 1000).toISOString()}`).toBe(expected);
      }
    }
  });

  it('is one zone however its name is spelt', () => {
    expect(isTimeZone('europe/berlin')).toBe(true);
    expect(TimeZone.of('europe/berlin')).toBe(TimeZone.of('Europe/Berlin'));
    expect(TimeZone.of('EUROPE/BERLIN').name).toBe('Europe/Berlin');
    expect(() => TimeZone.of('Europe/Nowhere')).toThrow(RangeError);
  });

  it('changes offset at the exact second of a change, not before', () => {
    const berlin = TimeZone.of('Europe/Berlin');
    expect(berlin.offsetAt(utc('2026-03-29 01:00') - 1)).toBe(3600);
    expect(berlin.offsetAt(utc('2026-03-29 01:00'))).toBe(7200);
    expect(berlin.offsetAt(utc('2026-10-25 01:00') - 1)).toBe(7200);
    expect(berlin.offsetAt(utc('2026-10-25 01:00'))).toBe(3600);
  });

  it('keeps local mean time to the second (Berlin before 1893: +00:53:28)', () => {
    expect(TimeZone.of('Europe/Berlin').offsetAt(utc('1800-06-01'))).toBe(53 * 60 + 28);
  });

  it('cuts a stretch where the offset changes, across years', () => {
    const stretches = TimeZone.of('Europe/Berlin').stretches(utc('2025-12-31'), utc('2027-01-02'));
    expect(stretches.map(({ from, offsetSeconds }) => [formatWithOffset(from, offsetSeconds), offsetSeconds / 3600])).toEqual([
      ['2025-12-31T01:00:00.000000+01:00', 1],
      ['2026-03-29T03:00:00.000000+02:00', 2],
      ['2026-10-25T02:00:00.000000+01:00', 1],
    ]);
    expect(stretches.at(-1)!.to).toBe(utc('2027-01-02'));
  });

  it('reads a repeated wall time as its first occurrence, a skipped one moved forward by the jump', () => {
    const berlin = TimeZone.of('Europe/Berlin');
    expect(berlin.instantOf(utc('2026-10-25 02:30'))).toBe(utc('2026-10-25T02:30+02:00'));
    expect(berlin.instantOf(utc('2026-03-29 02:30'))).toBe(utc('2026-03-29T03:30+02:00'));
    expect(berlin.instantOf(utc('2026-03-29 03:00'))).toBe(utc('2026-03-29T03:00+02:00'));
    expect(TimeZone.of('Asia/Kathmandu').instantOf(utc('2026-06-01 00:00'))).toBe(utc('2026-05-31 18:15'));
    // Santiago skips the midnight of 6 September 2026: 00:00 is 01:00 -03:00.
    expect(TimeZone.of('America/Santiago').instantOf(utc('2026-09-06'))).toBe(utc('2026-09-06T01:00-03:00'));
  });
});

describe('parseTimestamp in a zone', () => {
  const berlin = (wall: number) => TimeZone.of('Europe/Berlin').instantOf(wall);

  it('reads a bound without offset on the zone clock, one with Z or an offset as it says', () => {
    expect(parseTimestamp('2026-10-25', berlin)).toBe(utc('2026-10-24 22:00'));
    expect(parseTimestamp('2026-10-25 02:30:00.000001', berlin)).toBe(utc('2026-10-25 00:30:00.000001'));
    expect(parseTimestamp('2026-10-25T02:30Z', berlin)).toBe(utc('2026-10-25 02:30'));
    expect(parseTimestamp('2026-10-25T02:30+01:00', berlin)).toBe(utc('2026-10-25 01:30'));
    expect(parseTimestamp('2026-10-25+02:30', berlin)).toBe(utc('2026-10-25 00:30'));
  });

  it('refuses what it refuses without a zone', () => {
    expect(parseTimestamp('2026-02-30', berlin)).toBeUndefined();
    expect(parseTimestamp('2300-01-01', berlin)).toBeUndefined();
  });
});

describe('formatWithOffset', () => {
  it('prints the wall time at the offset, and the offset', () => {
    expect(formatWithOffset(utc('2026-10-25 01:00'), 3600)).toBe('2026-10-25T02:00:00.000000+01:00');
    expect(formatWithOffset(utc('2026-06-01 18:15:00.000001'), 5 * 3600 + 45 * 60)).toBe('2026-06-02T00:00:00.000001+05:45');
    expect(formatWithOffset(utc('2026-09-06 04:00'), -3 * 3600)).toBe('2026-09-06T01:00:00.000000-03:00');
    expect(formatWithOffset(utc('1800-06-01'), 53 * 60 + 28)).toBe('1800-06-01T00:53:28.000000+00:53:28');
    expect(formatWithOffset(0, 0)).toBe('1970-01-01T00:00:00.000000+00:00');
  });

  it('prints the wall time as formatMicros does, across the whole exact span, leap days and 1970 included', () => {
    const random = new Random(53);
    const times = [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -1, 0, 1, utc('2000-02-29 23:59:59.999999'), utc('1900-03-01'), utc('2100-02-28 12:00')];
    for (let i = 0; i < 20_000; i++) times.push(Math.round((random.next() * 2 - 1) * Number.MAX_SAFE_INTEGER));
    for (const ts of times) expect(formatWithOffset(ts, 0), `${ts}`).toBe(`${formatMicros(ts).replace(' ', 'T')}+00:00`);
  });
});
