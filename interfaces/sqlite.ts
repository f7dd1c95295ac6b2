// The naive reference, ported faithfully from the original Flask app: one table of raw events, a commit
// per event (autocommit, default rollback journal), each dashboard a full scan plus the uuid self-join,
// the range dashboard a loop over the letters. It is the baseline to beat and a second opinion on
// correctness, so it stays naive on purpose; its one index enforces the uuid uniqueness of initials.
//
// Bugs of the original not carried over (SPEC section 3): its alphabet lists `k` twice and empty symbols
// lose their letter (here every letter of LETTERS answers, empty or not); timestamps drop the fraction
// when it is zero (here always six digits, so text order is time order); both range bounds are exclusive
// (here half-open: lower included, upper excluded).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BackendUnavailableError, LETTERS } from './contract.ts';
import type {
  DataInterface, ExportRange, FollowupEvent, FollowupResult, InitialEvent, InitialResult, Letter, RawEvent,
  SymbolAggregate,
} from './contract.ts';
import { bucketOfTs, checkedStarts, emptyPoints, type SeriesPoint, type SeriesQuery } from './series.ts';
import { formatMicros, parseTimestamp } from './time.ts';
import type { Micros } from './time.ts';

export interface SqliteOptions {
  /**
   * How long a call waits for another connection's lock before it fails with BackendUnavailableError.
   * better-sqlite3 waits synchronously, blocking the event loop, so this stays short (default 1000 ms):
   * long enough to outlast other processes' commits and single scans, short enough to answer 503 quickly.
   */
  busyTimeoutMs?: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS api_events (uuid TEXT, symbol TEXT, is_vowel INTEGER, url TEXT, date TEXT);
  CREATE UNIQUE INDEX IF NOT EXISTS api_events_initial_uuid ON api_events (uuid) WHERE url = '/initial';
`;

// ON CONFLICT DO NOTHING settles two processes inserting one uuid atomically: the first row wins, the
// other insert changes nothing and then reads the winner.
const INSERT_INITIAL = `
  INSERT INTO api_events (uuid, symbol, is_vowel, url, date) VALUES (@uuid, @symbol, @is_vowel, '/initial', @date)
  ON CONFLICT DO NOTHING`;
const INSERT_FOLLOWUP = `
  INSERT INTO api_events (uuid, symbol, is_vowel, url, date)
  SELECT @uuid, NULL, NULL, '/followup', @date
  WHERE EXISTS (SELECT 1 FROM api_events WHERE uuid = @uuid AND url = '/initial')`;
// The series, as the range dashboard's two queries once for all letters (or one): every initial in
// range by a full scan, then its followups by the uuid self-join, each row as the initial's date;
// the buckets are counted from those rows.
const SERIES_WHERE = `initial.url = '/initial' AND initial.date >= @lower AND initial.date < @upper AND (@symbol IS NULL OR initial.symbol = @symbol)`;
const SERIES_INITIALS = `SELECT initial.date FROM api_events AS initial NOT INDEXED WHERE ${SERIES_WHERE}`;
const SERIES_FOLLOWUPS = `
  SELECT initial.date FROM api_events AS initial
  JOIN api_events AS followup ON followup.uuid = initial.uuid AND followup.url = '/followup' WHERE ${SERIES_WHERE}`;
const FIND_INITIAL = `SELECT symbol, is_vowel FROM api_events WHERE uuid = ? AND url = '/initial'`;
const EXPORT = `
  SELECT uuid, symbol, is_vowel, url, date FROM api_events
  WHERE (@from IS NULL OR date >= @from) AND (@to IS NULL OR date < @to)
  ORDER BY date, rowid`;

interface SeriesParams { lower: string; upper: string; symbol: Letter | null }
interface InitialRow { symbol: Letter; is_vowel: 0 | 1 }
interface EventRow { uuid: string; symbol: Letter | null; is_vowel: 0 | 1 | null; url: string; date: string }
interface SummaryRow { count: number; earliest: string | null; latest: string | null }
interface DashboardParams { symbol: Letter; lower?: string; upper?: string }

export class SqliteInterface implements DataInterface {
  readonly name = 'sqlite';
  private readonly insertInitial;
  private readonly insertFollowup;
  private readonly findInitial;
  private readonly readSchema;
  private readonly symbolDashboard;
  private readonly rangeDashboard;
  private readonly seriesInitials;
  private readonly seriesFollowups;
  private readonly loadInOneTransaction;

  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
    db.exec(SCHEMA);
    this.insertInitial = db.prepare<{ uuid: string; symbol: Letter; is_vowel: 0 | 1; date: string }>(INSERT_INITIAL);
    this.insertFollowup = db.prepare<{ uuid: string; date: string }>(INSERT_FOLLOWUP);
    this.findInitial = db.prepare<[string], InitialRow>(FIND_INITIAL);
    this.readSchema = db.prepare('SELECT count(*) FROM sqlite_schema');
    this.symbolDashboard = new DashboardQueries(db, false);
    this.rangeDashboard = new DashboardQueries(db, true);
    this.seriesInitials = db.prepare<SeriesParams, string>(SERIES_INITIALS).pluck();
    this.seriesFollowups = db.prepare<SeriesParams, string>(SERIES_FOLLOWUPS).pluck();
    this.loadInOneTransaction = db.transaction((events: Iterable<RawEvent>) => {
      for (const event of events) {
        if (event.type === 'initial') this.insertInitialRow(event);
        else this.insertFollowupRow(event);
      }
    });
  }

  /** Opens (creating it, its folder and its table if missing) the database file, or ':memory:'. */
  static async open(file: string, options: SqliteOptions = {}): Promise<SqliteInterface> {
    if (file !== ':memory:' && file !== '') mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file, { timeout: options.busyTimeoutMs ?? 1000 });
    try {
      return new SqliteInterface(db);
    } catch (error) {
      db.close(); // a caller retrying a locked file must not pile up open handles
      throw asUnavailable(error);
    }
  }

  async recordInitial(event: Omit<InitialEvent, 'type'>): Promise<InitialResult> {
    return unlessBusy(() => {
      if (this.insertInitialRow(event)) return { outcome: 'recorded' };
      // The unique index refused the row, so the uuid's first initial exists.
      const first = this.findInitial.get(event.uuid)!;
      return first.symbol === event.symbol
        ? { outcome: 'repeat', guess: first.is_vowel === 1 }
        : { outcome: 'conflict', symbol: first.symbol };
    });
  }

  async recordFollowup(event: Omit<FollowupEvent, 'type'>): Promise<FollowupResult> {
    return unlessBusy(() => (this.insertFollowupRow(event) ? { outcome: 'recorded' } : { outcome: 'unknown-uuid' }));
  }

  async symbolAggregate(symbol: Letter): Promise<SymbolAggregate> {
    return unlessBusy(() => this.symbolDashboard.aggregate({ symbol }));
  }

  async symbolAggregates(): Promise<SymbolAggregate[]> {
    // As the original would: the symbol dashboard's query once per letter.
    return unlessBusy(() => LETTERS.map((symbol) => this.symbolDashboard.aggregate({ symbol })));
  }

  async rangeAggregates(lower: Micros, upper: Micros): Promise<SymbolAggregate[]> {
    const bounds = { lower: formatMicros(lower), upper: formatMicros(upper) };
    // As the original: the same full scans once per letter.
    return unlessBusy(() => LETTERS.map((symbol) => this.rangeDashboard.aggregate({ symbol, ...bounds })));
  }

  async series(query: SeriesQuery): Promise<SeriesPoint[]> {
    const starts = checkedStarts(query);
    const points = emptyPoints(starts);
    const params = { lower: formatMicros(query.lower), upper: formatMicros(query.upper), symbol: query.symbol };
    const pointOf = (date: string) => points[bucketOfTs(starts, toMicros(date))] as SeriesPoint;
    return unlessBusy(() => {
      for (const date of this.seriesInitials.iterate(params)) pointOf(date).count += 1;
      for (const date of this.seriesFollowups.iterate(params)) pointOf(date).followups += 1;
      return points;
    });
  }

  /**
   * Streams rows one at a time. While an export is being read, better-sqlite3 refuses writes on this
   * connection, and its read lock makes other processes' commits wait: export from its own process.
   */
  async *exportEvents(range: ExportRange = {}): AsyncIterable<RawEvent> {
    const params = {
      from: range.from === undefined ? null : formatMicros(range.from),
      to: range.to === undefined ? null : formatMicros(range.to),
    };
    try {
      // A statement per export: one statement cannot serve two iterations at once.
      for (const row of this.db.prepare<typeof params, EventRow>(EXPORT).iterate(params)) yield toRawEvent(row);
    } catch (error) {
      throw asUnavailable(error);
    }
  }

  /**
   * The bulk path for benchmarks and large tests: the statements of recordInitial and recordFollowup,
   * so the same rows and the same answers, in ONE transaction instead of a commit per event. It expects
   * a valid stream (what the record calls would accept); it reports no outcomes.
   */
  async loadEvents(events: Iterable<RawEvent>): Promise<void> {
    unlessBusy(() => this.loadInOneTransaction.immediate(events));
  }

  async ping(): Promise<void> {
    // Reading the schema takes a shared lock on the file, so a locked database does not pass for healthy.
    unlessBusy(() => this.readSchema.get());
  }

  async close(): Promise<void> {
    this.db.close();
  }

  /** True when stored, false when the uuid already has an initial. */
  private insertInitialRow({ uuid, symbol, guess, ts }: Omit<InitialEvent, 'type'>): boolean {
    return this.insertInitial.run({ uuid, symbol, is_vowel: guess ? 1 : 0, date: formatMicros(ts) }).changes === 1;
  }

  /** True when stored, false when the uuid has no initial. */
  private insertFollowupRow({ uuid, ts }: Omit<FollowupEvent, 'type'>): boolean {
    return this.insertFollowup.run({ uuid, date: formatMicros(ts) }).changes === 1;
  }
}

/** The original's two dashboard queries over one symbol's initials, all time or within [lower, upper). */
class DashboardQueries {
  private readonly summary;
  private readonly followups;

  constructor(db: Database.Database, withinRange: boolean) {
    const initials =
      `WHERE initial.url = '/initial' AND initial.symbol = @symbol` +
      (withinRange ? ' AND initial.date >= @lower AND initial.date < @upper' : '');
    // NOT INDEXED keeps the original's plain scan: the planner would otherwise walk the uuid index and
    // fetch every row through it, several times slower.
    this.summary = db.prepare<DashboardParams, SummaryRow>(
      `SELECT count(*) AS count, min(initial.date) AS earliest, max(initial.date) AS latest
       FROM api_events AS initial NOT INDEXED ${initials}`,
    );
    this.followups = db.prepare<DashboardParams, number>(
      `SELECT count(*) FROM api_events AS initial
       JOIN api_events AS followup ON followup.uuid = initial.uuid AND followup.url = '/followup' ${initials}`,
    ).pluck();
  }

  aggregate(params: DashboardParams): SymbolAggregate {
    const { count, earliest, latest } = this.summary.get(params)!;
    return {
      count,
      symbol: params.symbol,
      earliest: earliest === null ? null : toMicros(earliest),
      latest: latest === null ? null : toMicros(latest),
      followups: this.followups.get(params)!,
    };
  }
}

function toRawEvent({ uuid, symbol, is_vowel, url, date }: EventRow): RawEvent {
  const ts = toMicros(date);
  return url === '/initial'
    ? { type: 'initial', uuid, symbol: symbol!, guess: is_vowel === 1, ts }
    : { type: 'followup', uuid, ts };
}

/** Reads back a stored `date` (formatMicros text). */
function toMicros(date: string): Micros {
  const ts = parseTimestamp(date);
  if (ts === undefined) throw new Error(`api_events holds a date that is not a timestamp: "${date}"`);
  return ts;
}

/** Runs a database call, turning "locked by another connection" into BackendUnavailableError (a 503). */
function unlessBusy<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw asUnavailable(error);
  }
}

function asUnavailable(error: unknown): unknown {
  const locked = error instanceof Database.SqliteError && /^SQLITE_(BUSY|LOCKED)/.test(error.code);
  return locked ? new BackendUnavailableError('the SQLite database is locked by another connection', { cause: error }) : error;
}
