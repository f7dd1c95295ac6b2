// The raw events in MariaDB: the source of truth. Every row carries the batch that wrote it
// (partition, seq), and a batch's row in `batches` commits with its events, so Redis can always be
// brought up to date from here.

import type { Connection as CallbackConnection } from 'mysql2';
import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import { BackendUnavailableError, type Letter, type RawEvent } from '../contract.ts';
import type { Micros } from '../time.ts';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS initials (
     uuid BINARY(16) NOT NULL PRIMARY KEY,
     symbol CHAR(1) CHARACTER SET ascii NOT NULL,
     guess BOOLEAN NOT NULL,
     ts BIGINT NOT NULL COMMENT 'microseconds since 1970-01-01 UTC',
     part TINYINT UNSIGNED NOT NULL,
     seq BIGINT UNSIGNED NOT NULL,
     pos INT UNSIGNED NOT NULL COMMENT 'arrival order within the batch',
     KEY by_ts (ts),
     KEY by_batch (part, seq)
   ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS followups (
     id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     uuid BINARY(16) NOT NULL,
     ts BIGINT NOT NULL COMMENT 'microseconds since 1970-01-01 UTC',
     part TINYINT UNSIGNED NOT NULL,
     seq BIGINT UNSIGNED NOT NULL,
     pos INT UNSIGNED NOT NULL COMMENT 'arrival order within the batch',
     KEY by_uuid (uuid),
     KEY by_ts (ts),
     KEY by_batch (part, seq)
   ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS batches (
     part TINYINT UNSIGNED NOT NULL,
     seq BIGINT UNSIGNED NOT NULL,
     committed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
     PRIMARY KEY (part, seq)
   ) ENGINE=InnoDB`,
];

export interface KnownInitial {
  uuid: string;
  symbol: Letter;
  guess: boolean;
  ts: Micros;
  part: number;
  seq: number;
}

/** An event as the rollups see it: the letter and time of the initial it counts for. */
export interface CountedEvent {
  kind: 'initial' | 'followup';
  symbol: Letter;
  initialTs: Micros;
}

export const uuidToBinary = (uuid: string): Buffer => Buffer.from(uuid.replaceAll('-', ''), 'hex');
export function uuidFromBinary(binary: Buffer): string {
  const hex = binary.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** MariaDB error codes after which the same batch may simply be tried again. */
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
export const isRetryable = (error: unknown) => RETRYABLE.has((error as { code?: string }).code ?? '');
export const isDuplicateBatch = (error: unknown) => (error as { code?: string }).code === 'ER_DUP_ENTRY';

/** The initials and followups a partition's batches wrote, as the letter and time they count for. */
function countedSql(andBatch: string): string {
  return `SELECT 'initial' AS kind, symbol, ts AS initialTs FROM initials WHERE part = ? ${andBatch}
          UNION ALL
          SELECT 'followup', i.symbol, i.ts FROM followups f JOIN initials i ON i.uuid = f.uuid
          WHERE f.part = ? ${andBatch.replace('seq', 'f.seq')}`;
}

const countedEvent = (row: RowDataPacket): CountedEvent => ({ kind: row.kind, symbol: row.symbol, initialTs: Number(row.initialTs) });

/** Rows one at a time, without holding the whole result (the promise wrapper has no stream). */
function streamRows(connection: PoolConnection, sql: string, params: unknown[]): AsyncIterable<RowDataPacket> {
  const core = connection.connection as unknown as CallbackConnection;
  return core.query(sql, params).stream() as unknown as AsyncIterable<RowDataPacket>;
}

export class EventsDb {
  readonly pool: Pool;
  private readonly database: string;

  private constructor(pool: Pool, database: string) {
    this.pool = pool;
    this.database = database;
  }

  static async open(url: string): Promise<EventsDb> {
    const pool = createPool({
      uri: url,
      connectionLimit: 8,
      connectTimeout: 2000,
      enableKeepAlive: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      // A batch's statements go together: two round trips per transaction instead of six. Every
      // value is passed as a parameter and escaped.
      multipleStatements: true,
    });
    const database = new URL(url).pathname.slice(1) || 'og';
    try {
      for (const statement of SCHEMA) await pool.query(statement);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new BackendUnavailableError(
        `MariaDB at ${new URL(url).host} refused the schema set-up: ${(error as Error).message}; ` +
          'check MARIADB_URL and that the user may create tables in the database',
        { cause: error },
      );
    }
    return new EventsDb(pool, database);
  }

  /**
   * Runs `work` as one transaction on one connection; `work` sends START TRANSACTION and COMMIT
   * itself, so that they share round trips with its statements. Rolled back if it throws.
   */
  async transaction<T>(work: (connection: PoolConnection) => Promise<T>): Promise<T> {
    const connection = await this.pool.getConnection();
    try {
      return await work(connection);
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  }

  async lastSeq(part: number): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT COALESCE(MAX(seq), 0) AS seq FROM batches WHERE part = ?', [part]);
    return Number(rows[0]?.seq ?? 0);
  }

  /** The batches of a partition committed after `afterSeq`, in order. */
  async batchesAfter(part: number, afterSeq: number): Promise<number[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT seq FROM batches WHERE part = ? AND seq > ? ORDER BY seq', [part, afterSeq]);
    return rows.map((row) => Number(row.seq));
  }

  /** What one committed batch counted, read back from its raw events. */
  async batchEvents(part: number, seq: number): Promise<CountedEvent[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(countedSql('AND seq = ?'), [part, seq, part, seq]);
    return rows.map(countedEvent);
  }

  /** Everything a partition's batches counted, streamed (on a connection that may hold a snapshot). */
  async *partitionEvents(connection: PoolConnection, part: number): AsyncIterable<CountedEvent> {
    for await (const row of streamRows(connection, countedSql(''), [part, part])) yield countedEvent(row);
  }

  /**
   * Claims a writer partition for this process with a named lock held by a dedicated connection,
   * so processes rarely share one. Sharing is still correct (batches are keyed by partition and
   * seq); only slower. The lock goes with the pool's connections when the pool ends.
   */
  async claimPartition(partitions: number): Promise<number> {
    const holder = await this.pool.getConnection();
    for (let part = 0; part < partitions; part++) {
      const [rows] = await holder.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [`${this.database}.writer.${part}`]);
      if (rows[0]?.got === 1) return part; // the holder stays checked out, keeping the lock
    }
    holder.release();
    return Math.floor(Math.random() * partitions);
  }

  /** Initials and followups with `ts` in the given stretches, summed per letter (the edges of a range). */
  async sumEdges(edges: [Micros, Micros][]): Promise<{ symbol: Letter; count: number; followups: number; lo: Micros; hi: Micros }[]> {
    if (edges.length === 0) return [];
    const where = edges.map(() => '(i.ts >= ? AND i.ts < ?)').join(' OR ');
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT i.symbol, COUNT(DISTINCT i.uuid) AS count, COUNT(f.id) AS followups, MIN(i.ts) AS lo, MAX(i.ts) AS hi
       FROM initials i LEFT JOIN followups f ON f.uuid = i.uuid
       WHERE ${where} GROUP BY i.symbol`,
      edges.flat(),
    );
    return rows.map((row) => ({
      symbol: row.symbol,
      count: Number(row.count),
      followups: Number(row.followups),
      lo: Number(row.lo),
      hi: Number(row.hi),
    }));
  }

  /** Raw events, oldest first; events of the same microsecond in the order they were recorded. */
  async *exportEvents(from: Micros, to: Micros): AsyncIterable<RawEvent> {
    const connection = await this.pool.getConnection();
    try {
      const rows = streamRows(
        connection,
        `SELECT * FROM (
             SELECT 0 AS kind, uuid, symbol, guess, ts, part, seq, pos FROM initials WHERE ts >= ? AND ts < ?
             UNION ALL
             SELECT 1, uuid, NULL, NULL, ts, part, seq, pos FROM followups WHERE ts >= ? AND ts < ?
           ) events ORDER BY ts, part, seq, pos`,
        [from, to, from, to],
      );
      for await (const row of rows) {
        const uuid = uuidFromBinary(row.uuid as Buffer);
        const ts = Number(row.ts);
        yield row.kind === 0 ? { type: 'initial', uuid, symbol: row.symbol, guess: row.guess === 1, ts } : { type: 'followup', uuid, ts };
      }
    } finally {
      connection.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
