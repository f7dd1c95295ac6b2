// IANA time zones, from the platform's Intl (Node has no Temporal yet): a zone's offset from UTC at
// any instant, and the instants where it changes. Intl answers for one instant at a time, a few
// microseconds each, so a zone's changes are found once per UTC year (a sample a day, then a binary
// search to the second between two samples that differ) and kept: an answer afterwards costs no
// Intl call, whatever the range.

import type { Micros } from './time.ts';

const SECOND = 1_000_000;
const DAY_SECONDS = 86_400;
/** Each zone-year found is kept; past this many, the oldest go first. */
const MAX_YEARS_KEPT = 4096;

/** Names asked about, each with the zone's own name; past this many, the oldest go first. */
const MAX_NAMES_KEPT = 10_000;
const zoneNames = new Map<string, string>();

/**
 * The platform's name of the zone called `name` (any case: `europe/berlin` is Europe/Berlin), or
 * undefined when it knows none (an offset like +05:30 is not a name). Kept: a formatter costs tens
 * of microseconds to make, and spellings of one zone share its TimeZone.
 */
function zoneName(name: string): string | undefined {
  let known = zoneNames.get(name);
  if (known === undefined) {
    if (!/^[A-Za-z]/.test(name)) return undefined;
    try {
      known = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    } catch {
      return undefined;
    }
    if (zoneNames.size >= MAX_NAMES_KEPT) zoneNames.delete(zoneNames.keys().next().value as string);
    zoneNames.set(name, known);
  }
  return known;
}

/** Whether `name` is a time zone the platform knows by name. */
export function isTimeZone(name: string): boolean {
  return zoneName(name) !== undefined;
}

/** A stretch of time with one offset: [from, to) in µs, the offset in seconds east of UTC. */
export interface OffsetStretch {
  from: Micros;
  to: Micros;
  offsetSeconds: number;
}

/** Where a zone's offset changes within one UTC year: the instants (whole seconds) and the offset from each on. */
interface YearRules {
  startOffset: number;
  changes: { at: number; offsetSeconds: number }[];
}

export class TimeZone {
  private static readonly zones = new Map<string, TimeZone>();
  private static readonly years = new Map<string, YearRules>();

  readonly name: string;
  private readonly format: Intl.DateTimeFormat;

  private constructor(name: string) {
    this.name = name;
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name, hourCycle: 'h23', era: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  }

  /** The zone of that name (isTimeZone must hold). */
  static of(name: string): TimeZone {
    const own = zoneName(name);
    if (own === undefined) throw new RangeError(`no time zone is called "${name}"`);
    let zone = TimeZone.zones.get(own);
    if (!zone) {
      zone = new TimeZone(own);
      TimeZone.zones.set(own, zone);
    }
    return zone;
  }

  /** The offset from UTC at `ts`, in seconds east. */
  offsetAt(ts: Micros): number {
    const seconds = Math.floor(ts / SECOND);
    const rules = this.year(yearOf(seconds));
    let offset = rules.startOffset;
    for (const change of rules.changes) {
      if (change.at > seconds) break;
      offset = change.offsetSeconds;
    }
    return offset;
  }

  /** [from, to) cut where the offset changes, each stretch with its offset. */
  stretches(from: Micros, to: Micros): OffsetStretch[] {
    const out: OffsetStretch[] = [{ from, to, offsetSeconds: this.offsetAt(from) }];
    const last = yearOf(Math.floor((to - 1) / SECOND));
    for (let year = yearOf(Math.floor(from / SECOND)); year <= last; year++) {
      const rules = this.year(year);
      // A change at the very start of a year is that year's start offset.
      const start = { at: Date.UTC(year, 0, 1) / 1000, offsetSeconds: rules.startOffset };
      for (const change of [start, ...rules.changes]) {
        const at = change.at * SECOND;
        const current = out[out.length - 1] as OffsetStretch;
        if (at <= from || at >= to || change.offsetSeconds === current.offsetSeconds) continue;
        current.to = at;
        out.push({ from: at, to, offsetSeconds: change.offsetSeconds });
      }
    }
    return out;
  }

  /**
   * The instant a local wall time (µs since 1970-01-01 00:00 on the zone's clock) stands for: a
   * wall time that occurs twice is its first occurrence; one skipped by a change moves forward by
   * the jump (02:30 on a spring-forward night of +01:00 to +02:00 is 03:30 +02:00).
   */
  instantOf(wall: Micros): Micros {
    const before = this.offsetAt(wall - DAY_SECONDS * SECOND);
    const after = this.offsetAt(wall + DAY_SECONDS * SECOND);
    const fits = [before, after].map((offset) => wall - offset * SECOND).filter((ts) => this.offsetAt(ts) * SECOND === wall - ts);
    // None fits: the wall time is skipped; read with the offset before the jump, it lands after it.
    return fits.length > 0 ? Math.min(...fits) : wall - before * SECOND;
  }

  private year(year: number): YearRules {
    const key = `${this.name} ${year}`;
    let rules = TimeZone.years.get(key);
    if (!rules) {
      rules = this.findChanges(Date.UTC(year, 0, 1) / 1000, Date.UTC(year + 1, 0, 1) / 1000);
      if (TimeZone.years.size >= MAX_YEARS_KEPT) TimeZone.years.delete(TimeZone.years.keys().next().value as string);
      TimeZone.years.set(key, rules);
    }
    return rules;
  }

  /** The changes in [from, to) (unix seconds), from a sample a day. */
  private findChanges(from: number, to: number): YearRules {
    const rules: YearRules = { startOffset: this.askIntl(from), changes: [] };
    let offset = rules.startOffset;
    for (let lo = from; lo < to - 1; ) {
      const hi = Math.min(lo + DAY_SECONDS, to - 1);
      const atHi = this.askIntl(hi);
      // Several changes between two samples are found in turn (a change and back is not seen).
      while (atHi !== offset) {
        lo = this.firstSecondNotAt(offset, lo, hi);
        offset = this.askIntl(lo);
        rules.changes.push({ at: lo, offsetSeconds: offset });
      }
      lo = hi;
    }
    return rules;
  }

  /** The first second in (lo, hi] whose offset is not `offset` (the one at lo); one at hi is not. */
  private firstSecondNotAt(offset: number, lo: number, hi: number): number {
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.askIntl(mid) === offset) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  /** The offset at a unix second, as Intl has it. */
  private askIntl(seconds: number): number {
    const parts: Record<string, string> = {};
    for (const part of this.format.formatToParts(seconds * 1000)) parts[part.type] = part.value;
    const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
    const wall = new Date(0);
    wall.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
    wall.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second));
    return wall.getTime() / 1000 - seconds;
  }
}

/** The UTC year of a unix second. */
function yearOf(seconds: number): number {
  return new Date(seconds * 1000).getUTCFullYear();
}
