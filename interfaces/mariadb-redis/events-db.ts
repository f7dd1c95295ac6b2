// The raw events in MariaDB, the source of truth, and every statement the interface sends there:
// the schema, the batch transaction, the heads and tails of the partitions' logs, the snapshot a
// rebuild reads, the edges of a range, the export.
//
// The log: each batch is a row (part, seq, token) in `batches`, committed with its events, and
// every event row carries its batch. Seqs are consecutive within a partition as MariaDB has them
// (the transaction takes the next one under a lock on the partition's row in `heads`, which it
// moves to the batch), and the token is random, so a batch of another database, or of this one
// before a restore, never passes for one of this log. `heads` holds each partition's last batch:
// what every dashboard read asks for, in the cheapest query MariaDB can answer.
//
// No request waits longer than `deadlineMs`: connections are taken, and statements answered,
// within it, else a 503 (nothing was stored). Only a COMMIT whose outcome was lost with its
// connection waits longer: until MariaDB can say whether the batch is there.

import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import type { Connection as CallbackConnection } from 'mysql2';
import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import { BackendUnavailableError, CommitOutcomeUnknownError, type FollowupResult, type InitialResult, type Letter, type RawEvent } from '../contract.ts';
import type { Micros } from '../time.ts';
import { beforeDeadline, deadlineIn } from './deadline.ts';
import { tlsOptions, type TlsFiles } from './tls.ts';

// A followup row carries its initial's letter and time (known when it is written: the batch looks
// every uuid up anyway), so that what the rollups count is read from one index, with no join per
// initial: a range's edges and a series' stretches (initials by (ts, symbol), followups by
// (initial_ts, symbol)), a view's tail, a rebuild. verify checks the copies against the initials.
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS initials (
     uuid BINARY(16) NOT NULL PRIMARY KEY,
     symbol CHAR(1) CHARACTER SET ascii NOT NULL,
     guess BOOLEAN NOT NULL,
     ts BIGINT NOT NULL COMMENT 'microseconds since 1970-01-01 UTC',
     part TINYINT UNSIGNED NOT NULL,
     seq BIGINT UNSIGNED NOT NULL,
     pos INT UNSIGNED NOT NULL COMMENT 'arrival order within the batch',
     KEY by_ts_symbol (ts, symbol),
     KEY by_batch (part, seq)
   ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS followups (
     id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     uuid BINARY(16) NOT NULL,
     ts BIGINT NOT NULL COMMENT 'microseconds since 1970-01-01 UTC',
     part TINYINT UNSIGNED NOT NULL,
     seq BIGINT UNSIGNED NOT NULL,
     pos INT UNSIGNED NOT NULL COMMENT 'arrival order within the batch',
     symbol CHAR(1) CHARACTER SET ascii NOT NULL COMMENT 'the letter of its initial',
     initial_ts BIGINT NOT NULL COMMENT 'the time of its initial',
     KEY by_uuid (uuid),
     KEY by_ts (ts),
     KEY by_initial (initial_ts, symbol),
     KEY by_batch (part, seq)
   ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS batches (
     part TINYINT UNSIGNED NOT NULL,
     seq BIGINT UNSIGNED NOT NULL,
     token BIGINT UNSIGNED NOT NULL COMMENT 'random: tells this batch from any other of the same seq',
     committed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
     PRIMARY KEY (part, seq)
   ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS heads (
     part TINYINT UNSIGNED NOT NULL PRIMARY KEY,
     seq BIGINT UNSIGNED NOT NULL COMMENT 'the partition''s last batch in batches',
     token BIGINT UNSIGNED NOT NULL
   ) ENGINE=InnoDB`,
];

/** Each partition's last batch from the log itself: what `heads` must hold. */
const LAST_BATCHES = `SELECT b.part, b.seq, b.token FROM batches b
  JOIN (SELECT part, MAX(seq) AS seq FROM batches GROUP BY part) last ON b.part = last.part AND b.seq = last.seq`;

/**
 * From the schema before followups carried their initial's letter and time, and before `heads`
 * (`npm run migrate`; the table itself is made by open's CREATE TABLE IF NOT EXISTS): each
 * statement may run again after an interruption.
 */
const MIGRATION = [
  `INSERT INTO heads (part, seq, token) ${LAST_BATCHES} ON DUPLICATE KEY UPDATE seq = VALUES(seq), token = VALUES(token)`,
  `ALTER TABLE followups ADD COLUMN IF NOT EXISTS symbol CHAR(1) CHARACTER SET ascii NOT NULL DEFAULT '' COMMENT 'the letter of its initial',
                         ADD COLUMN IF NOT EXISTS initial_ts BIGINT NOT NULL DEFAULT 0 COMMENT 'the time of its initial'`,
  `UPDATE followups f JOIN initials i ON i.uuid = f.uuid SET f.symbol = i.symbol, f.initial_ts = i.ts`,
  `ALTER TABLE followups ALTER COLUMN symbol DROP DEFAULT, ALTER COLUMN initial_ts DROP DEFAULT`,
  `ALTER TABLE initials ADD KEY IF NOT EXISTS by_ts_symbol (ts, symbol), DROP KEY IF EXISTS by_ts`,
  // Last: what open() looks for.
  `ALTER TABLE followups ADD KEY IF NOT EXISTS by_initial (initial_ts, symbol)`,
];

/** A committed batch of a partition: its seq and the random token written with it. */
export interface BatchRef {
  seq: number;
  token: number;
}

/** Whether two refs name the same batch (of one partition's log). */
export const sameBatch = (a: BatchRef, b: BatchRef) => a.seq === b.seq && a.token === b.token;

/** The head of a partition that has no batch yet (and the mark of its view). */
export const NO_BATCH: BatchRef = { seq: 0, token: 0 };

/** An event as the rollups see it: the letter and time of the initial it counts for. */
export interface CountedEvent {
  kind: 'initial' | 'followup';
  symbol: Letter;
  initialTs: Micros;
}

/** A committed batch: where it stands in its partition's log, what it answered, what it counts. */
export interface WrittenBatch {
  part: number;
  batch: BatchRef;
  /** The batch before it in the log (NO_BATCH for the first). */
  previous: BatchRef;
  /**
   * One per event, in order; an error for an initial left out of the batch because another
   * transaction, not yet committed, holds its uuid (nothing of it was stored: a 503).
   */
  outcomes: (InitialResult | FollowupResult | BackendUnavailableError)[];
  counted: CountedEvent[];
}

export interface EdgeSums {
  symbol: Letter;
  count: number;
  followups: number;
  lo: Micros;
  hi: Micros;
}

export interface EventsDbOptions {
  /** No request waits on MariaDB longer (ms), but for a COMMIT whose outcome was lost. */
  deadlineMs: number;
  /** Set: every connection is TLS, the server's certificate verified against `tls.ca` (and the URL's host, when it is a name). */
  tls?: TlsFiles;
}

export const uuidToBinary = (uuid: string): Buffer => Buffer.from(uuid.replaceAll('-', ''), 'hex');
export function uuidFromBinary(binary: Buffer): string {
  const hex = binary.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Errors after which the same batch may simply be tried again: nothing of it was committed. */
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_DUP_ENTRY']);
const codeOf = (error: unknown) => (error as { code?: string }).code ?? '';

/** How long a request waits, at most, to learn whether a COMMIT that lost its connection happened. */
const OUTCOME_WAIT_MS = 60_000;

/** The initials and followups a partition's batches wrote, as the letter and time they count for. */
function countedSql(batchFilter: string): string {
  return `SELECT 'initial' AS kind, symbol, ts AS initialTs FROM initials WHERE part = ? ${batchFilter}
          UNION ALL
          SELECT 'followup', symbol, initial_ts FROM followups WHERE part = ? ${batchFilter}`;
}
/**
 * What counts for the initials in the stretches, of one letter or all, grouped: their initials
 * (rows of kind 0), and their followups whenever they came (kind 1), each table read on its index
 * of the initial's time and letter. One statement, so one snapshot. `select` gives each side's
 * columns (the same number) and what they are grouped by; parameters: countedInParams.
 */
function countedIn(stretches: [Micros, Micros][], letter: Letter | null, select: { initials: string; followups: string; by: string }): string {
  const where = (column: string) => `(${stretches.map(() => `(${column} >= ? AND ${column} < ?)`).join(' OR ')})${letter === null ? '' : ' AND symbol = ?'}`;
  return `SELECT 0 AS kind, ${select.initials} FROM initials WHERE ${where('ts')} GROUP BY ${select.by}
          UNION ALL
          SELECT 1, ${select.followups} FROM followups WHERE ${where('initial_ts')} GROUP BY ${select.by}`;
}
/** countedIn's parameters, `selected` those of each side's columns. */
function countedInParams(stretches: [Micros, Micros][], letter: Letter | null, selected: unknown[] = []): unknown[] {
  const side = [...selected, ...stretches.flat(), ...(letter === null ? [] : [letter])];
  return [...side, ...side];
}

const countedEvent = (row: RowDataPacket): CountedEvent => ({ kind: row.kind, symbol: row.symbol, initialTs: Number(row.initialTs) });

// Each partition's last batch, found on the primary key (a loose index scan: one probe per
// partition), so a partition written by a deployment with more partitions is found too.

/** A statement's (or a connection's) answer within the deadline; past it the connection is destroyed. */
const withinDeadline = <T>(work: Promise<T>, deadline: number, what: string, connection?: PoolConnection) =>
  beforeDeadline(work, deadline, `MariaDB did not ${what} in time`, () => connection?.destroy());

/** A connection of `pool` within the deadline; one that comes later goes back to the pool. */
async function connect(pool: Pool, deadline: number): Promise<PoolConnection> {
  const pending = pool.getConnection();
  try {
    return await withinDeadline(pending, deadline, 'give a connection');
  } catch (error) {
    void pending.then((late) => late.release(), () => undefined);
    throw asUnavailable(error);
  }
}

export class EventsDb {
  private readonly writes: Pool;
  private readonly reads: Pool;
  /** Long reads (rebuild snapshots, exports, verify): no statement time limit. */
  private readonly bulk: Pool;
  private readonly deadlineMs: number;
  /** Per partition, resolves when the last batch given to writeBatch has its lock (or failed). */
  private readonly locking = new Map<number, Promise<void>>();

  private constructor(url: string, options: EventsDbOptions) {
    this.deadlineMs = options.deadlineMs;
    // mysql2 checks the certificate's name for a host name only: to an IP address (which it
    // checks against "localhost") it verifies the chain alone, so that CA must be the deployment's own.
    const ssl = options.tls ? { ...tlsOptions(options.tls), verifyIdentity: isIP(new URL(url).hostname.replace(/^\[|\]$/g, '')) === 0 } : undefined;
    const pool = (connectionLimit: number, statementSeconds?: number, isolation?: string) => {
      const created = createPool({
        uri: url,
        connectionLimit,
        // Waiting for a connection is bounded by the deadline; this bounds the queue too.
        queueLimit: 1000,
        connectTimeout: options.deadlineMs,
        enableKeepAlive: true,
        supportBigNumbers: true,
        bigNumberStrings: false,
        // A batch's statements go together: two round trips per transaction instead of six. Every
        // value is passed as a parameter and escaped.
        multipleStatements: true,
        ...(ssl ? { ssl } : {}),
      });
      // MariaDB ends a statement that waits too long (a lock held, a global read lock) by itself,
      // so the connection stays usable and a transaction that did not COMMIT is rolled back. No
      // lock, a row's or a table's, is waited for longer than that, on any pool.
      const settings = [`innodb_lock_wait_timeout = ${lockSeconds}`, `lock_wait_timeout = ${lockSeconds}`];
      if (statementSeconds !== undefined) settings.push(`max_statement_time = ${statementSeconds}`);
      const setup = [`SET SESSION ${settings.join(', ')}`, ...(isolation ? [`SET SESSION TRANSACTION ISOLATION LEVEL ${isolation}`] : [])].join('; ');
      created.on('connection', (c) => {
        // The event gives the callback connection (whatever the promise wrapper's types say).
        (c as unknown as CallbackConnection).query(setup, () => undefined);
      });
      return created;
    };
    const statementSeconds = (options.deadlineMs * 0.75) / 1000;
    // Whole seconds, as MariaDB takes them.
    const lockSeconds = Math.max(1, Math.floor(statementSeconds));
    // A batch reads only rows it locks or wrote: no snapshot to keep (the statement it saves is one
    // of a batch's ten).
    this.writes = pool(4, statementSeconds, 'READ COMMITTED');
    this.reads = pool(8, statementSeconds);
    this.bulk = pool(4);
  }

  /**
   * Connects, and creates the tables that are missing; refuses a database in the schema of an
   * earlier version (`npm run migrate` brings it up to date).
   */
  static async open(url: string, options: EventsDbOptions): Promise<EventsDb> {
    const db = await EventsDb.create(url, options);
    const [[indexed], [behind]] = await Promise.all([
      db.bulk.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'followups' AND INDEX_NAME = 'by_initial'"),
      db.bulk.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM (${LAST_BATCHES}) last LEFT JOIN heads h ON h.part = last.part AND h.seq = last.seq WHERE h.part IS NULL`),
    ]);
    const outdated = Number(indexed[0]?.n) === 0 ? "followups without their initial's letter and time" : Number(behind[0]?.n) > 0 ? 'no heads table for the log' : undefined;
    if (outdated) {
      await db.close();
      throw new Error(
        `MariaDB at ${new URL(url).host} holds the raw events in the schema of an earlier version (${outdated}): ` +
          'stop the servers and run `npm run migrate` once, with MARIADB_URL naming a user that may ALTER its tables',
      );
    }
    return db;
  }

  /** Brings a database in the schema of an earlier version up to date (nothing to do for a current one). */
  static async migrate(url: string, options: EventsDbOptions): Promise<void> {
    const db = await EventsDb.create(url, options);
    try {
      for (const statement of MIGRATION) await db.bulk.query(statement);
    } finally {
      await db.close();
    }
  }

  /** Connects, and creates the tables that are missing. */
  private static async create(url: string, options: EventsDbOptions): Promise<EventsDb> {
    const db = new EventsDb(url, options);
    try {
      for (const statement of SCHEMA) await db.bulk.query(statement);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw new BackendUnavailableError(
        `MariaDB at ${new URL(url).host} refused the schema set-up: ${(error as Error).message}; ` +
          'check MARIADB_URL and that the user may create tables in the database',
        { cause: error },
      );
    }
    return db;
  }

  /**
   * Commits `events` as the next batch of partition `part`, in two round trips: (1) take the next
   * seq under a lock on the partition's last batch, store the batch row and the initials, look up
   * every uuid; (2) store the followups and COMMIT. Decides each event's outcome in arrival order.
   *
   * An initial whose uuid another transaction holds (a writer stalled with it, not yet committed)
   * is left out, its outcome a 503, rather than holding up the batch: its insert does not wait for
   * the row's lock; when one fails so, the batch is tried again without the uuids held.
   *
   * It is stored by `deadline` (on the monotonic clock; by default `deadlineMs` from now), or not at
   * all. `onInDoubt` is called when the COMMIT's outcome was lost with its connection and MariaDB is
   * asked whether it happened (which may take long).
   *
   * Throws BackendUnavailableError when nothing was committed, CommitOutcomeUnknownError when
   * MariaDB could not tell in time whether the COMMIT happened.
   */
  async writeBatch(part: number, events: RawEvent[], options: { deadline?: number; onInDoubt?: () => void } = {}): Promise<WrittenBatch> {
    const { deadline = deadlineIn(this.deadlineMs), onInDoubt } = options;
    // Batches of a partition take its lock in the order they were given: a batch starts its first
    // round trip once the one before has its lock (then waits at MariaDB for that one's COMMIT).
    const before = this.locking.get(part);
    let locked!: () => void;
    const lockedHere = new Promise<void>((resolve) => (locked = resolve));
    this.locking.set(part, lockedHere);
    let connection: PoolConnection;
    let written: { batch: Omit<WrittenBatch, 'outcomes' | 'counted'>; decide: Decision };
    const held = new Set<string>();
    let stored = events;
    try {
      if (before) await withinDeadline(before, deadline, 'take the batch before this one');
      for (;;) {
        connection = await connect(this.writes, deadline);
        try {
          written = await withinDeadline(this.beginBatch(connection, part, stored, randomInt(1, 2 ** 48)), deadline, 'store the batch', connection);
          break;
        } catch (error) {
          connection.destroy(); // the transaction never committed: MariaDB rolls it back
          if (!RETRYABLE.has(codeOf(error)) || performance.now() >= deadline) throw error;
          if (codeOf(error) === 'ER_LOCK_WAIT_TIMEOUT') {
            for (const uuid of await this.heldElsewhere(stored)) held.add(uuid);
            stored = events.filter((event) => !(event.type === 'initial' && held.has(event.uuid)));
          }
        }
      }
    } catch (error) {
      throw asUnavailable(error);
    } finally {
      locked();
      if (this.locking.get(part) === lockedHere) this.locking.delete(part);
    }
    const { batch, decide } = written;
    // A COMMIT sent with its deadline nearly gone would likely end in doubt: not sending it is a
    // sure 503 (MariaDB rolls the transaction back).
    if (deadline - performance.now() < this.deadlineMs / 4) {
      connection.destroy();
      throw new BackendUnavailableError('MariaDB was too slow to commit the batch in time');
    }
    try {
      const followups = decide.followupRows;
      const commit = followups.length > 0 ? connection.query('INSERT INTO followups (uuid, ts, part, seq, pos, symbol, initial_ts) VALUES ?; COMMIT', [followups]) : connection.query('COMMIT');
      await withinDeadline(commit, deadline, 'commit the batch', connection);
      connection.release();
    } catch (error) {
      connection.destroy();
      onInDoubt?.();
      if (!(await this.wasCommitted(part, batch.batch, error))) throw asUnavailable(error);
    }
    const outcomes = decide.outcomes.values();
    return {
      ...batch,
      outcomes: events.map((event) =>
        event.type === 'initial' && held.has(event.uuid)
          ? new BackendUnavailableError(`uuid ${event.uuid} is being recorded by another request that has not finished`)
          : (outcomes.next().value as InitialResult | FollowupResult),
      ),
      counted: decide.counted,
    };
  }

  /**
   * The initials' uuids that a transaction not yet committed has written (another writer's batch
   * in flight, or stalled): seen by a dirty read and not by a committed one. No lock is taken.
   */
  private async heldElsewhere(events: RawEvent[]): Promise<string[]> {
    const uuids = [...new Set(events.flatMap((event) => (event.type === 'initial' ? [uuidToBinary(event.uuid)] : [])))];
    if (uuids.length === 0) return [];
    // SET TRANSACTION sets the next transaction only: the first SELECT.
    const [, dirty, committed] = await this.read<RowDataPacket[][]>('SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; SELECT uuid FROM initials WHERE uuid IN (?); SELECT uuid FROM initials WHERE uuid IN (?)', [uuids, uuids]);
    const seen = new Set((committed ?? []).map((row) => uuidFromBinary(row.uuid as Buffer)));
    return (dirty ?? []).map((row) => uuidFromBinary(row.uuid as Buffer)).filter((uuid) => !seen.has(uuid));
  }

  /**
   * The last batch of every partition the log has, in partition order, up to the highest one
   * (NO_BATCH for one without).
   */
  async heads(): Promise<BatchRef[]> {
    const rows = await this.read<RowDataPacket[]>('SELECT part, seq, token FROM heads', []);
    const heads = Array.from({ length: Math.max(0, ...rows.map((row) => Number(row.part) + 1)) }, () => NO_BATCH);
    for (const row of rows) heads[row.part] = { seq: Number(row.seq), token: Number(row.token) };
    return heads;
  }

  /** The token of batch `seq` of a partition, undefined when the log has no such batch. */
  async tokenOf(part: number, seq: number): Promise<number | undefined> {
    if (seq === 0) return 0;
    const rows = await this.read<RowDataPacket[]>('SELECT token FROM batches WHERE part = ? AND seq = ?', [part, seq]);
    return rows[0] === undefined ? undefined : Number(rows[0].token);
  }

  /**
   * The batches of a partition from `fromSeq` on (at most `limit`), and what those after
   * `fromSeq` counted: for a view that trails the log by these batches.
   */
  async logFrom(part: number, fromSeq: number, limit: number): Promise<{ batches: BatchRef[]; counted: CountedEvent[] }> {
    const results = await this.read<RowDataPacket[][]>(
      `SELECT COALESCE(MAX(seq), ?) INTO @upto FROM (SELECT seq FROM batches WHERE part = ? AND seq >= ? ORDER BY seq LIMIT ?) chunk;
       SELECT seq, token FROM batches WHERE part = ? AND seq >= ? AND seq <= @upto ORDER BY seq;
       ${countedSql('AND seq > ? AND seq <= @upto')}`,
      [fromSeq, part, fromSeq, limit, part, fromSeq, part, fromSeq, part, fromSeq],
    );
    const batches = (results[1] ?? []).map((row) => ({ seq: Number(row.seq), token: Number(row.token) }));
    if (fromSeq === 0) batches.unshift(NO_BATCH);
    return { batches, counted: (results[2] ?? []).map(countedEvent) };
  }

  /**
   * Runs `work` on a consistent snapshot of a partition: its last batch and everything its
   * batches counted, streamed. The snapshot ends with `work`, whether it finishes or throws.
   */
  async snapshot<T>(part: number, work: (head: BatchRef, events: AsyncIterable<CountedEvent>) => Promise<T>): Promise<T> {
    return this.onBulkConnection(async (connection) => {
      await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const [rows] = await connection.query<RowDataPacket[]>('SELECT seq, token FROM batches WHERE part = ? ORDER BY seq DESC LIMIT 1', [part]);
      const head = rows[0] ? { seq: Number(rows[0].seq), token: Number(rows[0].token) } : NO_BATCH;
      const result = await work(head, mapRows(streamRows(connection, countedSql(''), [part, part]), countedEvent));
      await connection.query('COMMIT');
      return result;
    });
  }

  /** Initials with `ts` in the given stretches, and their followups whenever they came, summed per letter (the edges of a range). */
  async sumEdges(edges: [Micros, Micros][]): Promise<EdgeSums[]> {
    if (edges.length === 0) return [];
    const rows = await this.read<RowDataPacket[]>(
      countedIn(edges, null, {
        initials: 'symbol AS k, COUNT(*) AS n, MIN(ts) AS lo, MAX(ts) AS hi',
        followups: 'symbol AS k, COUNT(*), NULL, NULL',
        by: 'k',
      }),
      countedInParams(edges, null),
    );
    const sums = new Map<Letter, EdgeSums>();
    for (const row of rows) {
      const symbol = row.k as Letter;
      const edge = sums.get(symbol) ?? { symbol, count: 0, followups: 0, lo: 0, hi: 0 };
      if (row.kind === 0) Object.assign(edge, { count: Number(row.n), lo: Number(row.lo), hi: Number(row.hi) });
      else edge.followups = Number(row.n);
      sums.set(symbol, edge);
    }
    return [...sums.values()];
  }

  /**
   * Initials in each stretch (sorted, disjoint), of one letter or all, and their followups
   * whenever they came: the parts of a series' points that no bucket answers. INTERVAL() tells
   * which stretch an initial is in (the count of stretch starts at or before it).
   */
  async countStretches(stretches: [Micros, Micros][], letter: Letter | null): Promise<{ count: number; followups: number }[]> {
    const counts = stretches.map(() => ({ count: 0, followups: 0 }));
    if (stretches.length === 0) return counts;
    const starts = stretches.map(() => '?').join(', ');
    const rows = await this.read<RowDataPacket[]>(
      countedIn(stretches, letter, { initials: `INTERVAL(ts, ${starts}) AS k, COUNT(*) AS n`, followups: `INTERVAL(initial_ts, ${starts}) AS k, COUNT(*)`, by: 'k' }),
      countedInParams(stretches, letter, stretches.map(([from]) => from)),
    );
    for (const row of rows) (counts[Number(row.k) - 1] as { count: number; followups: number })[row.kind === 0 ? 'count' : 'followups'] = Number(row.n);
    return counts;
  }

  /** How many followups carry a letter or time other than their initial's (verify: none should). */
  async followupCopiesOutOfStep(): Promise<number> {
    return this.onBulkConnection(async (connection) => {
      const [rows] = await connection.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM followups f JOIN initials i ON i.uuid = f.uuid WHERE f.symbol <> i.symbol OR f.initial_ts <> i.ts');
      return Number(rows[0]?.n);
    });
  }

  /** The symbol dashboards in plain SQL over all events: what verify checks the rollups against. */
  async totals(): Promise<{ symbol: Letter; count: number; lo: Micros; hi: Micros; followups: number }[]> {
    return this.onBulkConnection(async (connection) => {
      const [rows] = await connection.query<RowDataPacket[]>(
        `SELECT i.symbol, i.count, i.lo, i.hi, COALESCE(f.n, 0) AS followups
         FROM (SELECT symbol, COUNT(*) AS count, MIN(ts) AS lo, MAX(ts) AS hi FROM initials GROUP BY symbol) i
         LEFT JOIN (SELECT i.symbol, COUNT(*) AS n FROM followups f JOIN initials i ON i.uuid = f.uuid GROUP BY i.symbol) f ON f.symbol = i.symbol`,
      );
      return rows.map((row) => ({ symbol: row.symbol, count: Number(row.count), lo: Number(row.lo), hi: Number(row.hi), followups: Number(row.followups) }));
    });
  }

  /**
   * Raw events, oldest first; events of the same microsecond in the order they were recorded. One
   * snapshot is read in windows of time, each sorted by MariaDB on its own: a single ORDER BY over the
   * whole range would sort all of it (10M events: 15 s and a gigabyte of temporary file) before the
   * first row. A window's width adapts to hold about EXPORT_WINDOW_ROWS events, and an empty one
   * jumps to the next event. Rows are streamed, so memory stays constant whatever the range.
   */
  async *exportEvents(from: Micros, to: Micros): AsyncIterable<RawEvent> {
    const connection = await this.bulk.getConnection();
    let finished = false;
    try {
      await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      let width = EXPORT_FIRST_WINDOW;
      for (let lo = await firstEventAt(connection, from, to); lo !== undefined; ) {
        const hi = Math.min(to, lo + width);
        let rows = 0;
        for await (const row of streamRows(connection, EXPORT_WINDOW, [lo, hi, lo, hi])) {
          rows++;
          const uuid = uuidFromBinary(row.uuid as Buffer);
          const ts = Number(row.ts);
          yield row.kind === 0 ? { type: 'initial', uuid, symbol: row.symbol, guess: row.guess === 1, ts } : { type: 'followup', uuid, ts };
        }
        if (rows < EXPORT_WINDOW_ROWS / 2) width *= 2;
        else if (rows > EXPORT_WINDOW_ROWS * 2) width = Math.max(1, Math.floor(width / 2));
        lo = hi >= to ? undefined : rows === 0 ? await firstEventAt(connection, hi, to) : hi;
      }
      await connection.query('COMMIT');
      finished = true;
    } finally {
      // A reader that stopped early (a client gone) leaves a window half read: the connection
      // cannot be used again, so it goes, and MariaDB ends the snapshot.
      if (finished) connection.release();
      else connection.destroy();
    }
  }

  async ping(): Promise<void> {
    await this.read('SELECT 1', []);
  }

  async close(): Promise<void> {
    await Promise.all([this.writes.end(), this.reads.end(), this.bulk.end()]);
  }

  /**
   * Round trip (1) of a batch: the next seq under a lock on the partition's row in `heads`
   * (writers sharing a partition take turns), the batch row, the initials, and the rows of the
   * batch's uuids that it did not write. READ COMMITTED (the write pool's sessions): the lock is on
   * that row alone, no gap beside it, so a writer stalled inside its batch holds up no other
   * partition's (an empty one's first row in `heads` would go in that gap).
   */
  private async beginBatch(connection: PoolConnection, part: number, events: RawEvent[], token: number) {
    const seq = { toSqlString: () => '@seq' }; // the seq the statements above chose
    const initialRows = events.flatMap((e, pos) => (e.type === 'initial' ? [[uuidToBinary(e.uuid), e.symbol, e.guess, e.ts, part, seq, pos]] : []));
    const statements = [
      'START TRANSACTION',
      'SET @prev_seq = 0, @prev_token = 0, @seq = 1',
      'SELECT seq, token, seq + 1 INTO @prev_seq, @prev_token, @seq FROM heads WHERE part = ? FOR UPDATE',
      'INSERT INTO batches (part, seq, token) VALUES (?, @seq, ?)',
      'INSERT INTO heads (part, seq, token) VALUES (?, @seq, ?) ON DUPLICATE KEY UPDATE seq = VALUES(seq), token = VALUES(token)',
    ];
    const params: unknown[] = [part, part, token, part, token];
    if (initialRows.length > 0) {
      // A uuid already recorded (or twice in this batch) keeps its first row. One that another
      // transaction holds fails the statement at once (see writeBatch).
      statements.push('SET STATEMENT innodb_lock_wait_timeout = 0 FOR INSERT INTO initials (uuid, symbol, guess, ts, part, seq, pos) VALUES ? ON DUPLICATE KEY UPDATE uuid = uuid');
      params.push(initialRows);
    }
    statements.push('SELECT @seq AS seq, @prev_seq AS prev_seq, @prev_token AS prev_token');
    // A batch left with no event (its only initials were held elsewhere) is still a batch of the log.
    // The rows this batch wrote are its own initials (the first of each uuid): only the others are
    // read back (none, for a batch of new uuids).
    const uuids = [...new Set(events.map((e) => e.uuid))].map(uuidToBinary);
    if (uuids.length > 0) {
      statements.push('SELECT uuid, symbol, guess, ts FROM initials WHERE uuid IN (?) AND NOT (part = ? AND seq = @seq)');
      params.push(uuids, part);
    }
    const [results] = await connection.query<RowDataPacket[][]>(statements.join('; '), params);
    const log = results.at(uuids.length > 0 ? -2 : -1)?.[0] as RowDataPacket;
    const batch = { seq: Number(log.seq), token };
    const previous = { seq: Number(log.prev_seq), token: Number(log.prev_token) };
    return { batch: { part, batch, previous }, decide: decide(events, uuids.length > 0 ? (results.at(-1) ?? []) : [], part, batch.seq) };
  }

  /**
   * Whether a batch whose COMMIT lost its connection was committed. A locking read of its row
   * waits for the transaction, if MariaDB still runs it, to end either way; then the row tells.
   */
  private async wasCommitted(part: number, batch: BatchRef, cause: unknown): Promise<boolean> {
    const giveUpAt = performance.now() + OUTCOME_WAIT_MS;
    for (;;) {
      try {
        const results = await this.read<RowDataPacket[][]>('START TRANSACTION; SELECT token FROM batches WHERE part = ? AND seq = ? LOCK IN SHARE MODE; COMMIT', [part, batch.seq]);
        const row = results[1]?.[0];
        return row !== undefined && Number(row.token) === batch.token;
      } catch {
        if (performance.now() > giveUpAt) {
          throw new CommitOutcomeUnknownError(`MariaDB did not say within ${OUTCOME_WAIT_MS / 1000} s whether batch ${part}/${batch.seq} committed`, { cause });
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** One statement (or several) on the reads pool, within the deadline. */
  private async read<T>(sql: string, params: unknown[]): Promise<T> {
    const deadline = deadlineIn(this.deadlineMs);
    const connection = await connect(this.reads, deadline);
    try {
      const [rows] = await withinDeadline(connection.query(sql, params), deadline, 'answer', connection);
      connection.release();
      return rows as T;
    } catch (error) {
      connection.destroy();
      throw asUnavailable(error);
    }
  }

  /** `work` on a connection of the bulk pool; destroyed if `work` throws (it may hold a half-read stream or a transaction). */
  private async onBulkConnection<T>(work: (connection: PoolConnection) => Promise<T>): Promise<T> {
    const connection = await this.bulk.getConnection();
    try {
      const result = await work(connection);
      connection.release();
      return result;
    } catch (error) {
      connection.destroy();
      throw error;
    }
  }
}

interface Decision {
  outcomes: (InitialResult | FollowupResult)[];
  counted: CountedEvent[];
  followupRows: unknown[][];
}

/**
 * Each event's outcome, in arrival order, from the rows of its uuid that MariaDB held before the
 * batch (`rows`); an initial whose uuid has none wrote its row in this batch.
 */
function decide(events: RawEvent[], rows: RowDataPacket[], part: number, seq: number): Decision {
  const known = new Map<string, { symbol: Letter; guess: boolean; ts: Micros; ours: boolean }>();
  for (const row of rows) known.set(uuidFromBinary(row.uuid as Buffer), { symbol: row.symbol, guess: row.guess === 1, ts: Number(row.ts), ours: false });
  for (const event of events) {
    if (event.type === 'initial' && !known.has(event.uuid)) known.set(event.uuid, { symbol: event.symbol, guess: event.guess, ts: event.ts, ours: true });
  }
  const decision: Decision = { outcomes: [], counted: [], followupRows: [] };
  const recordedHere = new Set<string>();
  events.forEach((event, pos) => {
    const row = known.get(event.uuid);
    if (event.type === 'initial') {
      const stored = row as NonNullable<typeof row>; // every initial's uuid is known (above)
      // Only the first event of the batch for a uuid wrote the row; later ones are retries.
      if (stored.ours && !recordedHere.has(event.uuid)) {
        recordedHere.add(event.uuid);
        decision.counted.push({ kind: 'initial', symbol: event.symbol, initialTs: event.ts });
        decision.outcomes.push({ outcome: 'recorded' });
      } else {
        decision.outcomes.push(stored.symbol === event.symbol ? { outcome: 'repeat', guess: stored.guess } : { outcome: 'conflict', symbol: stored.symbol });
      }
      return;
    }
    // A followup counts if its initial came before it: earlier batches, or earlier in this one.
    if (!row || (row.ours && !recordedHere.has(event.uuid))) {
      decision.outcomes.push({ outcome: 'unknown-uuid' });
      return;
    }
    decision.followupRows.push([uuidToBinary(event.uuid), event.ts, part, seq, pos, row.symbol, row.ts]);
    decision.counted.push({ kind: 'followup', symbol: row.symbol, initialTs: row.ts });
    decision.outcomes.push({ outcome: 'recorded' });
  });
  return decision;
}

const EXPORT_WINDOW = `SELECT * FROM (
    SELECT 0 AS kind, uuid, symbol, guess, ts, part, seq, pos FROM initials WHERE ts >= ? AND ts < ?
    UNION ALL
    SELECT 1, uuid, NULL, NULL, ts, part, seq, pos FROM followups WHERE ts >= ? AND ts < ?
  ) events ORDER BY ts, part, seq, pos`;
const EXPORT_WINDOW_ROWS = 20_000;
const EXPORT_FIRST_WINDOW: Micros = 1_000_000;

/** The time of the first event in [from, to), if any (two index lookups). */
async function firstEventAt(connection: PoolConnection, from: Micros, to: Micros): Promise<Micros | undefined> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT LEAST(COALESCE((SELECT MIN(ts) FROM initials WHERE ts >= ? AND ts < ?), ?),
                  COALESCE((SELECT MIN(ts) FROM followups WHERE ts >= ? AND ts < ?), ?)) AS first`,
    [from, to, to, from, to, to],
  );
  const first = Number(rows[0]?.first);
  return first < to ? first : undefined;
}

/** Rows one at a time, without holding the whole result (the promise wrapper has no stream). */
function streamRows(connection: PoolConnection, sql: string, params: unknown[]): AsyncIterable<RowDataPacket> {
  const core = connection.connection as unknown as CallbackConnection;
  return core.query(sql, params).stream() as unknown as AsyncIterable<RowDataPacket>;
}

async function* mapRows<T>(rows: AsyncIterable<RowDataPacket>, map: (row: RowDataPacket) => T): AsyncIterable<T> {
  for await (const row of rows) yield map(row);
}

const asUnavailable = (error: unknown) => BackendUnavailableError.wrap(error, 'the event store (MariaDB)');
