// The ground truth of the tests: what every interface must answer, computed in plain TypeScript from the
// requests alone. Never take an expectation from another interface: a bug they share would pass.

import { emptyAggregate, LETTERS } from '../contract.ts';
import type {
  ExportRange, FollowupEvent, FollowupResult, InitialEvent, InitialResult, Letter, RawEvent, SymbolAggregate,
} from '../contract.ts';
import type { Micros } from '../time.ts';

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
