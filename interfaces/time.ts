// Timestamps are integer microseconds since the Unix epoch, UTC, and the API prints them as
// `YYYY-MM-DD HH:MM:SS.ffffff`. A JS number holds them exactly while they are safe integers,
// |µs| <= 2^53 - 1: from 1684 to 2255. Past that the last digits are lost, so nothing outside is parsed.

export type Micros = number;

export const MICROS_PER_SECOND = 1_000_000;

/** `YYYY-MM-DD HH:MM:SS.ffffff`, UTC, always six fraction digits. */
export function formatMicros(ts: Micros): string {
  const millis = Math.floor(ts / 1000);
  const iso = new Date(millis).toISOString(); // 2017-06-28T19:34:14.486Z
  const fraction = String(ts - Math.floor(ts / MICROS_PER_SECOND) * MICROS_PER_SECOND).padStart(6, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${fraction}`;
}

// YYYY-MM-DD, then optionally [ T+]HH:MM, :SS and .f{1,6}, then optionally Z (UTC, as no suffix is)
// or, after a time, an offset ±HH:MM from UTC. A `+` right after the date is the space as a form
// encoder writes it (URLSearchParams, urlencode, an HTML form: `2026-11-23+10:00` is
// `2026-11-23 10:00`): a date alone takes no offset (ISO 8601 has none there), so it can mean
// nothing else; a `+` after a time is an offset, typed or encoded as %2B.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T+](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(?:Z|([+-])(\d{2}):(\d{2}))?$/;

const TIMESTAMP_FORMATS =
  'YYYY-MM-DD, optionally followed by " HH:MM", ":SS" and "." with 1 to 6 fraction digits ' +
  '("T" or "+" may replace the space), then optionally "Z" or, after a time, an offset "+HH:MM" or "-HH:MM"; ' +
  'without either, UTC';

// The first and last instants held exactly, both accepted, as the error messages state them.
const EXACT_SPAN = `${formatMicros(-Number.MAX_SAFE_INTEGER)} to ${formatMicros(Number.MAX_SAFE_INTEGER)}`;

/**
 * Parses the range formats of the API, exact to the microsecond; returns undefined for anything else,
 * impossible dates and instants outside the exact span included.
 */
export function parseTimestamp(text: string, readLocal?: LocalReader): Micros | undefined {
  const ts = parseCalendar(text, readLocal);
  // Rounding keeps order, so a count past 2^53 - 1 never comes out as a safe integer: a safe one is exact.
  return ts !== undefined && Number.isSafeInteger(ts) ? ts : undefined;
}

/**
 * Reads a wall time given without an offset (µs since 1970-01-01 00:00 on some clock) as an instant:
 * a time zone's (TimeZone.instantOf). Without one, such a time is UTC.
 */
export type LocalReader = (wall: Micros) => Micros;

/** Why parseTimestamp refused `text`, as the error of `subject` (`lower "…"`, `--from "…"`). */
export function timestampError(subject: string, text: string, readLocal?: LocalReader): string {
  return parseCalendar(text, readLocal) === undefined
    ? `${subject} is not a valid date: use ${TIMESTAMP_FORMATS}`
    : `${subject} is outside the span of exact timestamps: use a date from ${EXACT_SPAN} (UTC)`;
}

/** The microseconds of a date in the API's formats, exact or not; undefined for any other text. */
function parseCalendar(text: string, readLocal?: LocalReader): Micros | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [
    number, number, number, number, number, number,
  ];
  const fraction = Number((match[7] ?? '').padEnd(6, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const [sign, offsetHours, offsetMinutes] = [match[8], Number(match[9] ?? 0), Number(match[10] ?? 0)];
  if (offsetHours > 23 || offsetMinutes > 59 || (sign !== undefined && match[4] === undefined)) return undefined;
  const offsetMicros = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60 * MICROS_PER_SECOND;
  // setUTCFullYear, unlike Date.UTC, keeps years 0-99 as they are; both roll 30 February over into
  // March, so a date that does not read back the same does not exist.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  date.setUTCHours(hour, minute, second, 0);
  const wall = date.getTime() * 1000 + fraction;
  // Neither Z nor an offset: a wall time on the reader's clock (a zone's), else UTC.
  if (readLocal !== undefined && sign === undefined && !text.endsWith('Z')) return Number.isSafeInteger(wall) ? readLocal(wall) : wall;
  // The local time at the offset, less the offset, is UTC; integers throughout, so exact.
  return wall - offsetMicros;
}

/**
 * `YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM`: the wall time at `offsetSeconds` east of UTC, and that offset
 * (`+HH:MM:SS` for one of whole seconds, as old local mean times are).
 */
export function formatWithOffset(ts: Micros, offsetSeconds: number): string {
  const abs = Math.abs(offsetSeconds);
  const seconds = abs % 60 === 0 ? '' : `:${two(abs % 60)}`;
  return `${formatWall(ts + offsetSeconds * MICROS_PER_SECOND)}${offsetSeconds < 0 ? '-' : '+'}${two(Math.floor(abs / 3600))}:${two(Math.floor(abs / 60) % 60)}${seconds}`;
}

const MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND;
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * `YYYY-MM-DDTHH:MM:SS.ffffff` of µs since 1970-01-01 00:00 on some clock, by integer arithmetic
 * (a series prints thousands; Date's ISO string costs several times more). The date from the days
 * is H. Hinnant's civil_from_days.
 */
function formatWall(wall: Micros): string {
  const days = Math.floor(wall / MICROS_PER_DAY);
  const inDay = wall - days * MICROS_PER_DAY;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153); // months from March
  const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const second = Math.floor(inDay / MICROS_PER_SECOND);
  const fraction = String(inDay - second * MICROS_PER_SECOND).padStart(6, '0');
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(Math.floor(second / 3600))}:${two(Math.floor(second / 60) % 60)}:${two(second % 60)}.${fraction}`;
}

// The monotonic clock gives microseconds; anchoring it to the wall clock again once a second keeps
// it with the system's time when that is adjusted (NTP), as the process runs for months. An anchor
// is taken only from two wall-clock readings at most 1 ms apart around the monotonic one: a process
// descheduled in between would shift every time stamp of the next second by that long.
let anchorMs = Date.now() - performance.now();
let anchoredAt = performance.now();

function reanchor(): void {
  const before = Date.now();
  const now = performance.now();
  const after = Date.now();
  if (after - before > 1) return; // try again at the next call
  anchorMs = (before + after) / 2 - now;
  anchoredAt = now;
}

/** The current UTC time in microseconds. */
export function systemClock(): Micros {
  if (performance.now() - anchoredAt > 1000) reanchor();
  const now = performance.now();
  return Math.floor((anchorMs + now) * 1000);
}
