// The data-interface contract: what every backend (null, sqlite, mariadb-redis, elasticsearch) offers the server.
// Timestamps are chosen by the caller (the server's clock, or a test), never by the interface.

import type { SeriesPoint, SeriesQuery } from './series.ts';
import type { Micros } from './time.ts';

export const LETTERS = [
  'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm',
  'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
] as const;
export type Letter = (typeof LETTERS)[number];

export function isLetter(value: string): value is Letter {
  return value.length === 1 && value >= 'a' && value <= 'z';
}

/** A POST /initial that was accepted: `guess` is what the server answered. */
export interface InitialEvent {
  type: 'initial';
  uuid: string;
  symbol: Letter;
  guess: boolean;
  ts: Micros;
}

/** A POST /followup that was accepted; it counts toward the symbol of its uuid's initial. */
export interface FollowupEvent {
  type: 'followup';
  uuid: string;
  ts: Micros;
}

export type RawEvent = InitialEvent | FollowupEvent;

export type InitialResult =
  /** First initial for this uuid: stored and counted. */
  | { outcome: 'recorded' }
  /** The uuid already has an initial with this symbol: nothing stored; answer the first guess again. */
  | { outcome: 'repeat'; guess: boolean }
  /** The uuid already has an initial with another symbol: nothing stored. */
  | { outcome: 'conflict'; symbol: Letter };

export type FollowupResult = { outcome: 'recorded' } | { outcome: 'unknown-uuid' };

/** One letter's dashboard: keys in the order the API prints them. */
export interface SymbolAggregate {
  count: number;
  symbol: Letter;
  /** Smallest and largest initial timestamp; null when count is 0. */
  earliest: Micros | null;
  latest: Micros | null;
  followups: number;
}

/** Half-open `[from, to)` filter on event timestamps; either bound may be left out. */
export interface ExportRange {
  from?: Micros;
  to?: Micros;
}

/** A backend's own measure, reported as it happens (for /metrics). */
export type BackendMetric =
  /** A write batch committed: its events, and the time its transaction took. */
  | { kind: 'batch'; events: number; commitSeconds: number }
  /** How many batches the aggregates trail the raw events by, all partitions together, as last seen. */
  | { kind: 'view-trail'; batches: number };

export interface DataInterface {
  readonly name: string;
  recordInitial(event: Omit<InitialEvent, 'type'>): Promise<InitialResult>;
  recordFollowup(event: Omit<FollowupEvent, 'type'>): Promise<FollowupResult>;
  symbolAggregate(symbol: Letter): Promise<SymbolAggregate>;
  /** The 26 symbol aggregates, `a` to `z`, as of one moment (the live page's update). */
  symbolAggregates(): Promise<SymbolAggregate[]>;
  /** 26 aggregates, `a` to `z`, over the initials with `lower <= ts < upper` (their followups whenever they came). */
  rangeAggregates(lower: Micros, upper: Micros): Promise<SymbolAggregate[]>;
  /**
   * The series' buckets (series.ts: seriesStarts, which must find at most MAX_SERIES_POINTS), each
   * with its initials of the letter (or of all) and their followups whenever they came. Every bucket
   * is there, empty ones with zeros; their sums are the range aggregates of [lower, upper).
   */
  series(query: SeriesQuery): Promise<SeriesPoint[]>;
  /** Raw events, oldest first; events of the same microsecond in the order they were recorded. */
  exportEvents(range?: ExportRange): AsyncIterable<RawEvent>;
  /**
   * The bulk path (loaders, benchmarks, large tests): `events`, in time order and each initial before
   * its followups, stored with the rows and aggregates the record calls would give, in as few
   * transactions as the store allows. It expects what the record calls would accept and reports no outcomes.
   */
  loadEvents(events: RawEvent[]): Promise<void>;
  /** Resolves when the backend answers; rejects (BackendUnavailableError) when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Calls `listener` with each of the backend's own measures; an interface that has none leaves it out. */
  onMetric?(listener: (metric: BackendMetric) => void): void;
}

/**
 * The backend is overloaded or out of reach: the server answers 503 with Retry-After.
 * Nothing of the request was acknowledged, so the client may safely retry it.
 */
export class BackendUnavailableError extends Error {
  readonly retryAfterSeconds: number;
  constructor(message: string, options: { retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'BackendUnavailableError';
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }

  /** `error` as a 503 that names the backend that failed (unchanged if it is one already). */
  static wrap(error: unknown, backend: string): BackendUnavailableError {
    if (error instanceof BackendUnavailableError) return error;
    return new BackendUnavailableError(`${backend} failed: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The backend could not tell in time whether a write was stored (its COMMIT lost the connection).
 * Neither 200 nor 503 would be true: the server closes the connection without an answer.
 */
export class CommitOutcomeUnknownError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'CommitOutcomeUnknownError';
  }
}

export function emptyAggregate(symbol: Letter): SymbolAggregate {
  return { count: 0, symbol, earliest: null, latest: null, followups: 0 };
}
