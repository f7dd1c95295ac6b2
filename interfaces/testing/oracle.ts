// The ground truth of the tests: what every interface must answer, computed in plain TypeScript from the
// requests alone. Never take an expectation from another interface: a bug they share would pass.

import { emptyAggregate, LETTERS } from '../contract.ts';
import type {
  ExportRange, FollowupEvent, FollowupResult, InitialEvent, InitialResult, Letter, RawEvent, SymbolAggregate,
} from '../contract.ts';
import type { SeriesPoint, SeriesQuery } from '../series.ts';
import type { Micros } from '../time.ts';

const MINUTE = 60_000_000;
/** Whether a wall clock's hour and minute are on an interval's grid. */
const ON_GRID: Record<SeriesQuery['interval'], (hour: number, minute: number) => boolean> = {
  '1m': () => true,
  '10m': (_hour, minute) => minute % 10 === 0,
  '1h': (_hour, minute) => minute === 0,
  '1d': (hour, minute) => hour === 0 && minute === 0,
};

export class Oracle {
  /** Accepted events, in the order they were recorded. */
  private readonly accepted: RawEvent[] = [];
  private readonly initialsByUuid = new Map<string, InitialEvent>();
  private readonly followupCounts = new Map<string, number>();

  /** Applies the contract's rules to one request and returns the answer it must get. */
  record(event: RawEvent): InitialResult | FollowupResult {
    return event.type === 'initial' ? this.recordInitial(event) : this.recordFollowup(event);
  }

  symbolAggregate(symbol: Letter): SymbolAggregate {
    return this.aggregates(() => true).get(symbol)!;
  }

  /** Initials with lower <= ts < upper; their followups count whenever they arrived. */
  rangeAggregates(lower: Micros, upper: Micros): SymbolAggregate[] {
    return [...this.aggregates((ts) => lower <= ts && ts < upper).values()];
  }

  /**
   * The series by brute force, sharing nothing with the interfaces' zone code: every whole UTC
   * minute in (lower, upper) whose wall time, as Intl prints it in the zone, is on the grid starts
   * a bucket (zones of whole-minute offsets only). Each initial in range counts in the last bucket
   * that starts at or before it, its followups with it.
   */
  series({ lower, upper, interval, tz, symbol }: SeriesQuery): SeriesPoint[] {
    const clock = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    const points: SeriesPoint[] = [{ start: lower, count: 0, followups: 0 }];
    for (let start = Math.floor(lower / MINUTE) * MINUTE + MINUTE; start < upper; start += MINUTE) {
      const [hour, minute] = clock.format(start / 1000).split(':').map(Number) as [number, number];
      if (ON_GRID[interval](hour, minute)) points.push({ start, count: 0, followups: 0 });
    }
    for (const { uuid, symbol: letter, ts } of this.initialsByUuid.values()) {
      if (ts < lower || ts >= upper || (symbol !== null && letter !== symbol)) continue;
      const point = points.findLast((candidate) => candidate.start <= ts) as SeriesPoint;
      point.count += 1;
      point.followups += this.followupCounts.get(uuid) ?? 0;
    }
    return points;
  }

  /** Oldest first; events of one microsecond in the order they were recorded. */
  exportEvents({ from, to }: ExportRange = {}): RawEvent[] {
    return this.accepted
      .filter(({ ts }) => (from === undefined || ts >= from) && (to === undefined || ts < to))
      .sort((a, b) => a.ts - b.ts);
  }

  private recordInitial(event: InitialEvent): InitialResult {
    const first = this.initialsByUuid.get(event.uuid);
    if (first) {
      return first.symbol === event.symbol
        ? { outcome: 'repeat', guess: first.guess }
        : { outcome: 'conflict', symbol: first.symbol };
    }
    this.initialsByUuid.set(event.uuid, event);
    this.accepted.push(event);
    return { outcome: 'recorded' };
  }

  private recordFollowup(event: FollowupEvent): FollowupResult {
    if (!this.initialsByUuid.has(event.uuid)) return { outcome: 'unknown-uuid' };
    this.followupCounts.set(event.uuid, (this.followupCounts.get(event.uuid) ?? 0) + 1);
    this.accepted.push(event);
    return { outcome: 'recorded' };
  }

  /** All 26 letters, a to z, over the initials whose timestamp passes `includes`. */
  private aggregates(includes: (ts: Micros) => boolean): Map<Letter, SymbolAggregate> {
    const byLetter = new Map(LETTERS.map((letter) => [letter, emptyAggregate(letter)]));
    for (const { uuid, symbol, ts } of this.initialsByUuid.values()) {
      if (!includes(ts)) continue;
      const aggregate = byLetter.get(symbol)!;
      aggregate.count += 1;
      aggregate.earliest = Math.min(aggregate.earliest ?? ts, ts);
      aggregate.latest = Math.max(aggregate.latest ?? ts, ts);
      aggregate.followups += this.followupCounts.get(uuid) ?? 0;
    }
    return byLetter;
  }
}
