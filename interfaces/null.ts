// The speed ceiling: keeps nothing and answers well-formed empty aggregates, so a benchmark against it
// measures the HTTP server alone.

import { emptyAggregate, LETTERS } from './contract.ts';
import type { DataInterface, FollowupResult, InitialResult, Letter, RawEvent, SymbolAggregate } from './contract.ts';
import { checkedStarts, emptyPoints, type SeriesPoint, type SeriesQuery } from './series.ts';

export class NullInterface implements DataInterface {
  readonly name = 'null';

  async recordInitial(): Promise<InitialResult> {
    return { outcome: 'recorded' };
  }

  async recordFollowup(): Promise<FollowupResult> {
    return { outcome: 'recorded' };
  }

  async symbolAggregate(symbol: Letter): Promise<SymbolAggregate> {
    return emptyAggregate(symbol);
  }

  async symbolAggregates(): Promise<SymbolAggregate[]> {
    return LETTERS.map((letter) => emptyAggregate(letter));
  }

  async rangeAggregates(): Promise<SymbolAggregate[]> {
    return LETTERS.map((letter) => emptyAggregate(letter));
  }

  async series(query: SeriesQuery): Promise<SeriesPoint[]> {
    return emptyPoints(checkedStarts(query));
  }

  async *exportEvents(): AsyncIterable<RawEvent> {}

  async loadEvents(): Promise<void> {}

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
