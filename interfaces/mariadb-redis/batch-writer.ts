// Micro-batched writes. Requests queue while a batch is being written and go together in the next
// one: one transaction in MariaDB (the batch row, a multi-row insert of initials, one lookup of the
// uuids, a multi-row insert of followups), then one script call in Redis. A request is answered
// only after both, so an acknowledged event is durable and counted.
//
// The queue is bounded, and after a failure new requests get a 503 at once for a moment instead of
// waiting on a backend that does not answer.

import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import { BackendUnavailableError, type FollowupResult, type InitialResult, type Letter, type RawEvent } from '../contract.ts';
import type { Micros } from '../time.ts';
import { DeltaSet } from './deltas.ts';
import { isDuplicateBatch, isRetryable, uuidFromBinary, uuidToBinary, type EventsDb, type KnownInitial } from './events-db.ts';
import type { Recovery } from './recovery.ts';

export interface BatchWriterOptions {
  /** Requests in one batch at most. */
  maxBatch: number;
  /** Requests waiting at most; past it a 503. */
  maxQueue: number;
  /** How long new requests are refused after the backend failed. */
  pauseAfterFailureMs: number;
  /** Test hook: 'kill-after-commit' kills the process between the MariaDB commit and the Redis update. */
  fault?: string;
}

type Request =
  | { kind: 'initial'; uuid: string; symbol: Letter; guess: boolean; ts: Micros; done: Settle<InitialResult> }
  | { kind: 'followup'; uuid: string; ts: Micros; done: Settle<FollowupResult> };

interface Settle<T> {
  resolve(result: T): void;
  reject(error: unknown): void;
}

type Outcome = InitialResult | FollowupResult;

interface Committed {
  seq: number;
  outcomes: Outcome[];
  deltas: DeltaSet;
}

export class BatchWriter {
  private queue: Request[] = [];
  private writing = false;
  private pausedUntil = 0;
  /** The next seq of this partition; re-read from MariaDB after any failure. */
  private nextSeq: number | undefined;

  private readonly db: EventsDb;
  private readonly recovery: Recovery;
  readonly partition: number;
  private readonly now: () => Micros;
  private readonly options: BatchWriterOptions;

  constructor(db: EventsDb, recovery: Recovery, partition: number, now: () => Micros, options: BatchWriterOptions) {
    this.db = db;
    this.recovery = recovery;
    this.partition = partition;
    this.now = now;
    this.options = options;
  }

  recordInitial(event: { uuid: string; symbol: Letter; guess: boolean; ts: Micros }): Promise<InitialResult> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'initial', ...event, done: { resolve, reject } }));
  }

  recordFollowup(event: { uuid: string; ts: Micros }): Promise<FollowupResult> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'followup', ...event, done: { resolve, reject } }));
  }

  /**
   * The bulk path (loaders, benchmarks): the events go as one batch through the same commit and
   * rollup update as requests, without the queue. Not to be mixed with requests in flight.
   */
  async writeEvents(events: RawEvent[]): Promise<void> {
    const ignore: Settle<never> = { resolve: () => undefined, reject: () => undefined };
    const { seq, deltas } = await this.commitBatch(events.map((event) => ({ ...event, kind: event.type, done: ignore }) as Request));
    await this.recovery.applyBatch(this.partition, seq, deltas);
  }

  /** Resolves once every queued request is answered. */
  async drain(): Promise<void> {
    while (this.writing || this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  private enqueue(request: Request): void {
    if (Date.now() < this.pausedUntil) {
      request.done.reject(new BackendUnavailableError('the event store failed a moment ago'));
    } else if (this.queue.length >= this.options.maxQueue) {
      request.done.reject(new BackendUnavailableError(`overloaded: ${this.queue.length} writes already queued`));
    } else {
      this.queue.push(request);
      if (!this.writing) void this.writeQueued();
    }
  }

  /**
   * Writes the queue batch after batch. A batch's Redis update overlaps the next batch's commit:
   * commits stay one at a time (so seqs stay consecutive) and updates stay in seq order, each
   * after the one before; a failed update is caught up by the next one's reconcile.
   */
  private async writeQueued(): Promise<void> {
    this.writing = true;
    let applied: Promise<void> = Promise.resolve();
    for (;;) {
      if (this.queue.length === 0) {
        await applied; // requests may arrive meanwhile
        if (this.queue.length === 0) break;
      }
      const batch = this.queue.splice(0, this.options.maxBatch);
      let committed: Committed;
      try {
        committed = await this.commitBatch(batch);
      } catch (error) {
        this.refuse(batch, error);
        continue;
      }
      applied = applied.then(async () => {
        try {
          await this.recovery.applyBatch(this.partition, committed.seq, committed.deltas);
          batch.forEach((request, i) => (request.done.resolve as (outcome: Outcome) => void)(committed.outcomes[i] as Outcome));
        } catch (error) {
          this.refuse(batch, error);
        }
      });
    }
    this.writing = false;
  }

  /** Answers 503 to the batch and everything queued, and refuses new requests for a moment. */
  private refuse(batch: Request[], error: unknown): void {
    const unavailable = asUnavailable(error);
    this.pausedUntil = Date.now() + this.options.pauseAfterFailureMs;
    for (const request of [...batch, ...this.queue.splice(0)]) request.done.reject(unavailable);
  }

  private async commitBatch(batch: Request[]): Promise<Committed> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.nextSeq ??= (await this.db.lastSeq(this.partition)) + 1;
        const seq = this.nextSeq;
        const { outcomes, deltas } = await this.db.transaction((connection) => this.commit(connection, batch, seq));
        this.nextSeq = seq + 1;
        if (this.options.fault === 'kill-after-commit') process.kill(process.pid, 'SIGKILL');
        return { seq, outcomes, deltas };
      } catch (error) {
        // Another process may share the partition, or a commit's fate is unknown: ask MariaDB.
        this.nextSeq = undefined;
        if (attempt < 5 && (isDuplicateBatch(error) || isRetryable(error))) continue;
        throw error;
      }
    }
  }

  /**
   * The batch's transaction, in two round trips: (1) open it, claim the batch number, store the
   * initials and look up every uuid of the batch; (2) store the followups and commit. Decides every
   * request's outcome in arrival order.
   */
  private async commit(connection: PoolConnection, batch: Request[], seq: number): Promise<{ outcomes: Outcome[]; deltas: DeltaSet }> {
    const part = this.partition;
    const initialRows = batch.flatMap((r, pos) => (r.kind === 'initial' ? [[uuidToBinary(r.uuid), r.symbol, r.guess, r.ts, part, seq, pos]] : []));
    const uuids = [...new Set(batch.map((request) => request.uuid))].map(uuidToBinary);
    const statements = ['START TRANSACTION', 'INSERT INTO batches (part, seq) VALUES (?, ?)'];
    const params: unknown[] = [part, seq];
    if (initialRows.length > 0) {
      // A uuid already recorded (or twice in this batch) keeps its first row.
      statements.push('INSERT INTO initials (uuid, symbol, guess, ts, part, seq, pos) VALUES ? ON DUPLICATE KEY UPDATE uuid = uuid');
      params.push(initialRows);
    }
    statements.push('SELECT uuid, symbol, guess, ts, part, seq FROM initials WHERE uuid IN (?)');
    params.push(uuids);
    const [results] = await connection.query<RowDataPacket[][]>(statements.join('; '), params);
    const known = knownInitials(results.at(-1) ?? []);
    const isOurs = (row: KnownInitial) => row.part === part && row.seq === seq;

    const deltas = new DeltaSet(this.now());
    const recordedHere = new Set<string>();
    const followupRows: unknown[][] = [];
    const outcomes = batch.map((request, pos): Outcome => {
      const row = known.get(request.uuid);
      if (request.kind === 'initial') {
        // Only the first request of the batch for a uuid wrote the row; later ones are retries.
        if (row && isOurs(row) && !recordedHere.has(request.uuid)) {
          recordedHere.add(request.uuid);
          deltas.addInitial(request.symbol, request.ts);
          return { outcome: 'recorded' };
        }
        if (!row) throw new Error(`initial ${request.uuid} was neither stored nor found`);
        return row.symbol === request.symbol ? { outcome: 'repeat', guess: row.guess } : { outcome: 'conflict', symbol: row.symbol };
      }
      // A followup counts if its initial came before it: earlier batches, or earlier in this one.
      if (!row || (isOurs(row) && !recordedHere.has(request.uuid))) return { outcome: 'unknown-uuid' };
      followupRows.push([uuidToBinary(request.uuid), request.ts, part, seq, pos]);
      deltas.addFollowup(row.symbol, row.ts);
      return { outcome: 'recorded' };
    });
    if (followupRows.length > 0) {
      await connection.query('INSERT INTO followups (uuid, ts, part, seq, pos) VALUES ?; COMMIT', [followupRows]);
    } else {
      await connection.query('COMMIT');
    }
    return { outcomes, deltas };
  }

}

function knownInitials(rows: RowDataPacket[]): Map<string, KnownInitial> {
  const known = new Map<string, KnownInitial>();
  for (const row of rows) {
    const uuid = uuidFromBinary(row.uuid as Buffer);
    known.set(uuid, { uuid, symbol: row.symbol, guess: row.guess === 1, ts: Number(row.ts), part: row.part, seq: Number(row.seq) });
  }
  return known;
}

export function asUnavailable(error: unknown): BackendUnavailableError {
  if (error instanceof BackendUnavailableError) return error;
  return new BackendUnavailableError(`the event store failed: ${(error as Error).message}`, { cause: error });
}
