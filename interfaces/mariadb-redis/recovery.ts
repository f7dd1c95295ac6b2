// Keeps the rollups in Redis a view of MariaDB's log of batches, exactly once: it sequences the
// three ways batches reach Redis, and knows nothing of SQL or keys.
//
// - project: a committed batch goes to Redis after the batch before it (the script checks the mark),
//   after its requests were answered; batches waiting for Redis go together in one apply.
// - reconcile: batches the view trails by (a failed apply, a writer that died, a Redis restored from
//   an older snapshot) are read back from MariaDB and applied in order.
// - rebuild: a partition whose mark is gone (Redis flushed or restarted empty), or names a batch
//   MariaDB does not have (a database recreated or restored, another deployment's data), is
//   recomputed from a consistent snapshot of MariaDB, under a lease so that one process does it.
//
// A sweep once a second compares every partition's mark with MariaDB's head and mends what it
// finds: so a partition is mended even when no write, and no read, comes for it.

import { randomUUID } from 'node:crypto';
import { BackendUnavailableError } from '../contract.ts';
import type { Micros } from '../time.ts';
import { DeltaSet } from './deltas.ts';
import { NO_BATCH, sameBatch, type BatchRef, type EventsDb, type WrittenBatch } from './events-db.ts';
import { formatMark, type Rollups } from './rollups.ts';

/** Events accumulated before each write to Redis while rebuilding. */
const REBUILD_CHUNK_EVENTS = 50_000;
/** Batches read back from MariaDB, and applied, in one step of a reconcile. */
const RECONCILE_BATCHES = 500;
const REBUILD_WAIT_MS = 60_000;

/**
 * Where a partition's view stands against its log: 'empty' (no batch yet, marked so), 'current' (it holds the
 * head, or a batch committed after the head was read), 'behind' (it holds an earlier batch: the
 * batch at its mark still to be checked), 'lost' (no mark) or 'foreign' (its mark names a batch
 * this log does not have).
 */
export type Standing = 'empty' | 'current' | 'behind' | 'lost' | 'foreign';

export async function standing(db: EventsDb, part: number, head: BatchRef, mark: BatchRef | undefined): Promise<Standing> {
  // No mark is a loss even without batches: the partition may hold another log's sums, or be in
  // the middle of a rebuild; rebuilding an empty partition only clears it.
  if (mark === undefined) return 'lost';
  if (head.seq === 0 && mark.seq === 0) return 'empty';
  if (mark.seq < head.seq) return 'behind';
  if (mark.seq === head.seq) return mark.token === head.token ? 'current' : 'foreign';
  // Applied after the head was read, or a batch MariaDB never had (or no longer has): ask it.
  return (await db.tokenOf(part, mark.seq)) === mark.token ? 'current' : 'foreign';
}

/**
 * The partitions to look after, given the log's heads: the deployment's `partitions`, and any other
 * the log has (a deployment with more partitions wrote it).
 */
const covered = (partitions: number, heads: BatchRef[]) => Array.from({ length: Math.max(partitions, heads.length) }, (_, part) => part);

/** The partitions to look after now (see covered). */
export const partsInUse = async (db: EventsDb, partitions: number): Promise<number[]> => covered(partitions, await db.heads());

export interface RebuildProgress {
  (partition: number, events: number): void;
}

export class Recovery {
  private readonly db: EventsDb;
  private readonly rollups: Rollups;
  private readonly now: () => Micros;
  private readonly partitions: number;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Per partition, committed batches waiting for Redis, in commit order. */
  private readonly waiting = new Map<number, WrittenBatch[]>();
  private readonly projecting = new Map<number, Promise<void>>();
  /** Each partition's mark at the last sweep that found it behind: still there at the next, it is stuck. */
  private readonly behindAt = new Map<number, string>();

  /** Told at each sweep how many batches the view trails the log by, all partitions together. */
  onTrail: ((batches: number) => void) | undefined;

  /** `partitions`: the deployment's (see MariadbRedisOptions); the sweep covers those and every other the log has. */
  constructor(db: EventsDb, rollups: Rollups, now: () => Micros, partitions: number) {
    this.db = db;
    this.rollups = rollups;
    this.now = now;
    this.partitions = partitions;
  }

  /**
   * Hands a committed batch to Redis. Resolves once the partition's waiting batches went (or
   * failed to go: the sweep then catches the view up from MariaDB); never rejects.
   */
  project(written: WrittenBatch): Promise<void> {
    const queue = this.waiting.get(written.part) ?? [];
    // In log order: two lanes' commits can be handed over in either order.
    let at = queue.length;
    while (at > 0 && (queue[at - 1] as WrittenBatch).batch.seq > written.batch.seq) at--;
    queue.splice(at, 0, written);
    this.waiting.set(written.part, queue);
    let running = this.projecting.get(written.part);
    if (!running) {
      // Started after the commits that completed together were all handed over, so they chain.
      running = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.drain(written.part, queue))
        .finally(() => this.projecting.delete(written.part));
      this.projecting.set(written.part, running);
    }
    return running;
  }

  /** Resolves when every batch handed over so far went to Redis (or failed to). */
  async projected(): Promise<void> {
    await Promise.all(this.projecting.values());
  }

  /** Mends every partition now (on start): rebuilds what is lost or foreign, catches up what is behind. */
  mendAll(): Promise<void> {
    return this.sweep(true);
  }

  /**
   * Compares every partition's mark with MariaDB's head and mends what needs it; a partition
   * behind is caught up only when it did not move since the last sweep (its writer may be slow,
   * or gone).
   */
  async sweep(catchUpNow = false, only?: number[]): Promise<void> {
    // The marks are read with the heads; a partition only the log knows of (a deployment with more
    // partitions wrote it) costs one more round trip.
    const [heads, marks] = await Promise.all([this.db.heads(), this.rollups.marks(only ?? covered(this.partitions, []))]);
    const parts = only ?? covered(this.partitions, heads);
    const unread = parts.filter((part) => !marks.has(part));
    if (unread.length > 0) for (const [part, mark] of await this.rollups.marks(unread)) marks.set(part, mark);
    this.onTrail?.(parts.reduce((sum, part) => sum + Math.max(0, (heads[part] ?? NO_BATCH).seq - (marks.get(part)?.seq ?? 0)), 0));
    await Promise.all(
      parts.map(async (part) => {
        const mark = marks.get(part);
        const where = await standing(this.db, part, heads[part] ?? NO_BATCH, mark);
        if (where === 'lost' || where === 'foreign') return this.rebuild(part, mark);
        if (where !== 'behind') return this.behindAt.delete(part);
        const seen = formatMark(mark as BatchRef);
        if (catchUpNow || this.behindAt.get(part) === seen) return this.reconcile(part);
        this.behindAt.set(part, seen);
      }),
    );
  }

  /** Applies, in order, the batches of a partition that MariaDB has and the view has not. */
  reconcile(part: number): Promise<void> {
    return this.once(`reconcile ${part}`, async () => {
      for (;;) {
        const mark = await this.rollups.mark(part);
        if (mark === undefined) return this.rebuild(part, mark);
        const { batches, counted } = await this.db.logFrom(part, mark.seq, RECONCILE_BATCHES);
        const [first, last] = [batches[0], batches.at(-1)];
        if (first?.seq !== mark.seq || first.token !== mark.token) return this.rebuild(part, mark);
        if (batches.length === 1 || last === undefined) return;
        // 'duplicate' or 'gap': another process moved the mark meanwhile; read it again.
        if ((await this.rollups.apply(part, mark, last, DeltaSet.of(counted, this.now(), true))) === 'lost') return this.rebuild(part, undefined);
      }
    });
  }

  /**
   * Recomputes a partition from MariaDB, whose mark `seen` (undefined: none) called for it; nothing
   * to do once the mark is another (mended meanwhile by another process). Applies wait meanwhile:
   * the mark is dropped first, and set at the end to the last batch the snapshot holds, so batches
   * committed after it apply on top.
   * A rebuild that fails half-way releases its lease; the partition stays without a mark, so the
   * next apply, read or sweep starts it again.
   */
  rebuild(part: number, seen: BatchRef | undefined, progress?: RebuildProgress): Promise<void> {
    return this.once(`rebuild ${part}`, async () => {
      const lease = randomUUID();
      try {
        if (!(await this.takeLease(part, lease, seen))) return; // another process rebuilt it meanwhile
        if (!(await this.rollups.deleteAggregates(part, lease))) throw staleLease(part);
        await this.db.snapshot(part, async (head, events) => {
          let deltas = new DeltaSet(this.now());
          let counted = 0;
          for await (const event of events) {
            deltas.addCounted(event);
            if (++counted % REBUILD_CHUNK_EVENTS === 0) {
              await this.writeChunk(part, lease, deltas);
              deltas = new DeltaSet(this.now());
              progress?.(part, counted);
            }
          }
          await this.writeChunk(part, lease, deltas);
          if (!(await this.rollups.finishRebuild(part, lease, head))) throw staleLease(part);
          progress?.(part, counted);
        });
      } catch (error) {
        await this.rollups.releaseLease(part, lease).catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * Applies the waiting batches of a partition, those that chain on each other in one step. A view
   * that is not where they start (applied already by a reconcile or a rebuild, behind after a
   * failed apply, lost, or another log's) is mended from MariaDB, which holds these batches too;
   * the waiting batches the mended view holds are then dropped.
   */
  private async drain(part: number, queue: WrittenBatch[]): Promise<void> {
    while (queue.length > 0) {
      const run = [queue.shift() as WrittenBatch];
      while (queue[0] && sameBatch(queue[0].previous, (run.at(-1) as WrittenBatch).batch)) run.push(queue.shift() as WrittenBatch);
      const [first, last] = [run[0] as WrittenBatch, run.at(-1) as WrittenBatch];
      const deltas = DeltaSet.of(run.flatMap((written) => written.counted), this.now(), true);
      try {
        const result = await this.rollups.apply(part, first.previous, last.batch, deltas);
        if (result === 'applied') continue;
        await (result === 'lost' ? this.rebuild(part, undefined) : this.sweep(true, [part]));
        const mark = await this.rollups.mark(part);
        const held = mark === undefined ? 0 : queue.findIndex((written) => written.batch.seq > mark.seq);
        queue.splice(0, held === -1 ? queue.length : held);
      } catch {
        // Redis or MariaDB failed: drop what waits; the sweep catches the view up from MariaDB.
        queue.length = 0;
      }
    }
  }

  private async writeChunk(part: number, lease: string, deltas: DeltaSet): Promise<void> {
    for (const slice of deltas.slices(500)) {
      if (!(await this.rollups.rebuildChunk(part, lease, slice))) throw staleLease(part);
    }
  }

  /**
   * Takes the partition's rebuild lease, waiting while another process holds it; false when the
   * mark is no longer `seen` (another process rebuilt the partition). One that died leaves its
   * lease to expire, then this one goes on.
   */
  private async takeLease(part: number, lease: string, seen: BatchRef | undefined): Promise<boolean> {
    const giveUpAt = performance.now() + REBUILD_WAIT_MS;
    for (;;) {
      const taken = await this.rollups.beginRebuild(part, lease, seen);
      if (taken !== 'held') return taken === 'taken';
      if (performance.now() > giveUpAt) {
        throw new BackendUnavailableError(`partition ${part} of the rollups is being rebuilt by another process`, { retryAfterSeconds: 5 });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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


function staleLease(part: number): BackendUnavailableError {
  return new BackendUnavailableError(`the rebuild of partition ${part} was taken over by another process`, { retryAfterSeconds: 5 });
}
