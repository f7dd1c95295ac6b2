// Keeps the rollups in Redis equal to what the committed batches in MariaDB say, exactly once.
//
// - apply: a batch goes to Redis only as the next one of its partition (the script checks the mark).
// - reconcile: batches committed but not applied (a crash or a Redis fault between the two) are read
//   back from MariaDB and applied in order. Runs on start and whenever an apply finds a gap.
// - rebuild: a partition whose mark is gone (Redis flushed or restarted empty) is recomputed from a
//   consistent snapshot of MariaDB, under a lease so that one process does it; others wait for it.

import { randomUUID } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import { BackendUnavailableError } from '../contract.ts';
import type { Micros } from '../time.ts';
import { DeltaSet } from './deltas.ts';
import type { CountedEvent, EventsDb } from './events-db.ts';
import { PARTITIONS, type Rollups } from './rollups.ts';

/** Events accumulated before each write to Redis while rebuilding. */
const REBUILD_CHUNK_EVENTS = 50_000;
const REBUILD_WAIT_MS = 60_000;

export interface RebuildProgress {
  (partition: number, events: number): void;
}

export class Recovery {
  private readonly inFlight = new Map<string, Promise<void>>();

  private readonly db: EventsDb;
  private readonly rollups: Rollups;
  private readonly now: () => Micros;

  constructor(db: EventsDb, rollups: Rollups, now: () => Micros) {
    this.db = db;
    this.rollups = rollups;
    this.now = now;
  }

  /** Applies a committed batch; first brings the partition up to the batch before it if needed. */
  async applyBatch(part: number, seq: number, deltas: DeltaSet): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.rollups.apply(part, 'batch', seq, deltas);
      if (result === 'applied' || result === 'duplicate') return;
      if (result === 'gap') await this.reconcile(part);
      else await this.rebuild(part); // 'lost'; a rebuild includes this committed batch
    }
    throw new BackendUnavailableError(`batch ${part}/${seq} could not be applied to Redis`);
  }

  /** Every partition brought up to date: on start, and after a fault. */
  async reconcileAll(): Promise<void> {
    for (let part = 0; part < PARTITIONS; part++) await this.reconcile(part);
  }

  /** Applies, in order, the batches of a partition that MariaDB has and Redis has not. */
  reconcile(part: number): Promise<void> {
    return this.once(`reconcile ${part}`, async () => {
      const mark = await this.rollups.mark(part);
      if (mark === undefined) return this.rebuild(part);
      for (const seq of await this.db.batchesAfter(part, mark)) {
        const result = await this.rollups.apply(part, 'batch', seq, this.deltasOf(await this.db.batchEvents(part, seq)));
        if (result === 'lost') return this.rebuild(part);
      }
    });
  }

  /**
   * Recomputes a partition from MariaDB. Applies wait meanwhile: the mark is removed first, and set
   * at the end to the last batch the snapshot holds, so batches committed after it apply on top.
   */
  rebuild(part: number, progress?: RebuildProgress): Promise<void> {
    return this.once(`rebuild ${part}`, async () => {
      const token = randomUUID();
      const lease = this.rollups.key(part, 'lease');
      if ((await this.rollups.client.set(lease, token, 'PX', REBUILD_WAIT_MS, 'NX')) === null) {
        return this.waitForMark(part);
      }
      await this.rollups.client.del(this.rollups.key(part, 'mark'));
      await this.rollups.deleteAggregates(part);
      const connection = await this.db.pool.getConnection();
      try {
        await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
        const [rows] = await connection.query<RowDataPacket[]>('SELECT COALESCE(MAX(seq), 0) AS seq FROM batches WHERE part = ?', [part]);
        const lastSeq = Number(rows[0]?.seq ?? 0);
        let deltas = new DeltaSet(this.now());
        let events = 0;
        for await (const event of this.db.partitionEvents(connection, part)) {
          addEvent(deltas, event);
          if (++events % REBUILD_CHUNK_EVENTS === 0) {
            await this.applyRebuildChunk(part, token, deltas);
            deltas = new DeltaSet(this.now());
            progress?.(part, events);
          }
        }
        await this.applyRebuildChunk(part, token, deltas);
        await connection.query('COMMIT');
        if ((await this.rollups.finishRebuild(part, token, lastSeq)) !== 'applied') throw staleLease(part);
        progress?.(part, events);
      } finally {
        connection.release();
      }
    });
  }

  deltasOf(events: Iterable<CountedEvent>): DeltaSet {
    const deltas = new DeltaSet(this.now());
    for (const event of events) addEvent(deltas, event);
    return deltas;
  }

  private async applyRebuildChunk(part: number, token: string, deltas: DeltaSet): Promise<void> {
    for (const slice of deltas.slices(500)) {
      if ((await this.rollups.apply(part, 'rebuild', token, slice)) !== 'applied') throw staleLease(part);
    }
  }

  private async waitForMark(part: number): Promise<void> {
    const deadline = Date.now() + REBUILD_WAIT_MS;
    while (Date.now() < deadline) {
      if ((await this.rollups.mark(part)) !== undefined) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new BackendUnavailableError(`partition ${part} of the rollups is being rebuilt by another process`, { retryAfterSeconds: 5 });
  }

  /** One run at a time of the same work in this process; callers meanwhile share its result. */
  private once(name: string, work: () => Promise<void>): Promise<void> {
    let running = this.inFlight.get(name);
    if (!running) {
      running = work().finally(() => this.inFlight.delete(name));
      this.inFlight.set(name, running);
    }
    return running;
  }
}

function addEvent(deltas: DeltaSet, event: CountedEvent): void {
  if (event.kind === 'initial') deltas.addInitial(event.symbol, event.initialTs);
  else deltas.addFollowup(event.symbol, event.initialTs);
}

function staleLease(part: number): BackendUnavailableError {
  return new BackendUnavailableError(`the rebuild of partition ${part} was taken over by another process`, { retryAfterSeconds: 5 });
}
