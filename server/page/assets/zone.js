// The time zones the page shows times in: the browser's own (by default) or UTC. The table, the
// headings and the range picker use the wall time of the zone shown; the API is told instants with
// their offset from UTC, so it never has to guess a zone.

/** The browser's zone by its IANA name, such as `Europe/Berlin`. */
export const LOCAL_ZONE_NAME = new Intl.DateTimeFormat().resolvedOptions().timeZone;

/** UTC if `utc`, else the browser's zone. */
export function timeZone(utc) {
  return utc ? UTC : LOCAL;
}

// Date's local and UTC fields are the wall time of the browser's zone and of UTC; each zone reads and
// sets them. A year from 0 to 99 is set through setFullYear, which, unlike the Date constructor,
// keeps it as it is.
const UTC = {
  utc: true,
  name: 'UTC',
  wall: (date) => ({
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    millisecond: date.getUTCMilliseconds(),
  }),
  instant: ({ year, month, day, hour, minute, second }) => {
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hour, minute, second, 0);
    return date;
  },
};

const LOCAL = {
  utc: false,
  name: LOCAL_ZONE_NAME,
  wall: (date) => ({
    year: date.getFullYear(),
    month: date.getMonth() + 1,
    day: date.getDate(),
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
    millisecond: date.getMilliseconds(),
  }),
  // A wall time the zone skips (clocks jump forward: 02:30 on the day summer time starts in Berlin)
  // is read on the clock before the jump, which is that much later on the clock after it (03:30); a
  // wall time the zone repeats (clocks go back: 02:30 on the day it ends) is its first occurrence,
  // the earlier instant (02:30 summer time). That is what ECMAScript specifies for local Date fields
  // (as Temporal's "compatible"): a range picked across a change covers the hours that really passed.
  instant: ({ year, month, day, hour, minute, second }) => {
    const date = new Date(0);
    date.setFullYear(year, month - 1, day);
    date.setHours(hour, minute, second, 0);
    return date;
  },
};

/** The offset from UTC of `date` in `zone`, in ms: its wall time read as if UTC, less the instant. */
function offsetMs(zone, date) {
  const wall = zone.wall(date);
  return UTC.instant(wall).getTime() + wall.millisecond - date.getTime();
}

const pad = (n, width = 2) => String(n).padStart(width, '0');
const wallDate = (w) => `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
const wallTime = (w) => `${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;

/** `+02:00`; a zone's old local mean time may be off by seconds too (`+00:53:28`). */
function formatOffset(ms) {
  const seconds = Math.abs(ms) / 1000;
  const text = `${ms < 0 ? '-' : '+'}${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}`;
  return seconds % 60 === 0 ? text : `${text}:${pad(seconds % 60)}`;
}

/** An instant as the page shows it: `YYYY-MM-DD HH:MM:SS` in the zone, with its offset unless UTC. */
export function formatInstant(zone, date) {
  const wall = zone.wall(date);
  return `${wallDate(wall)} ${wallTime(wall)}${zone.utc ? '' : formatOffset(offsetMs(zone, date))}`;
}

/**
 * One of the API's timestamps (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC) in the zone, to the microsecond:
 * a Date holds the milliseconds, the last three digits are carried over as they are.
 */
export function formatTimestamp(zone, text) {
  if (zone.utc) return text;
  const [year, month, day, hour, minute, second, micros] = text.split(/[- :.]/).map(Number);
  const date = UTC.instant({ year, month, day, hour, minute, second });
  date.setUTCMilliseconds(Math.floor(micros / 1000));
  const wall = zone.wall(date);
  const fraction = `${pad(wall.millisecond, 3)}${text.slice(-3)}`;
  return `${wallDate(wall)} ${wallTime(wall)}.${fraction}${formatOffset(offsetMs(zone, date))}`;
}

/** The instant of a date input's and a time input's values (an empty time is midnight) in the zone. */
export function readWallTime(zone, dateText, timeText) {
  const [year, month, day] = dateText.split('-').map(Number);
  const [hour = 0, minute = 0, second = 0] = timeText === '' ? [] : timeText.split(':').map(Number);
  return zone.instant({ year, month, day, hour, minute, second });
}

/** The values of a date input and a time input that show the instant in the zone. */
export function wallTimeInputs(zone, date) {
  const wall = zone.wall(date);
  return { date: wallDate(wall), time: wallTime(wall) };
}

/** The start of the day of `date` in the zone, and the start of the next day there (23 to 25 hours later). */
export function dayAround(zone, date) {
  const { year, month, day } = zone.wall(date);
  const midnight = { year, month, day, hour: 0, minute: 0, second: 0 };
  return { start: zone.instant(midnight), end: zone.instant({ ...midnight, day: day + 1 }) };
}

/**
 * A range bound for the API: the wall time in the zone and its offset there, such as
 * `2026-10-25T00:00:00+02:00`, or `Z` in UTC. An offset in seconds (old local mean time) has no
 * form in the API: that instant is then given in UTC.
 */
export function apiBound(zone, date) {
  const offset = offsetMs(zone, date);
  if (offset % 60_000 !== 0) return apiBound(UTC, date);
  const wall = zone.wall(date);
  return `${wallDate(wall)}T${wallTime(wall)}${zone.utc ? 'Z' : formatOffset(offset)}`;
}
