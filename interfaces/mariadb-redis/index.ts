// The production interface: raw events in MariaDB (the source of truth), every aggregate
// precomputed in Redis. See docs/mariadb-redis.md for the design and its guarantees.

import {
  BackendUnavailableError,
  emptyAggregate,
  LETTERS,
  type DataInterface,
  type ExportRange,
  type FollowupResult,
  type InitialResult,
  type Letter,
  type RawEvent,
  type SymbolAggregate,
} from '../contract.ts';
import { systemClock, type Micros } from '../time.ts';
import { asUnavailable, BatchWriter } from './batch-writer.ts';
import { planRange } from './buckets.ts';
import { EventsDb } from './events-db.ts';
import { Recovery } from './recovery.ts';
import { PARTITIONS, Rollups, type PartitionSums } from './rollups.ts';

export interface MariadbRedisOptions {
  mariadbUrl: string;
  redisUrl: string;
  /** Prefix of every Redis key (default 'og:'): lets two deployments share a Redis. */
  keyPrefix?: string;
  /** "Now" for bucket retention; tests that choose old timestamps move it. */
  now?: () => Micros;
  maxBatch?: number;
  maxQueue?: number;
  /** Write to this partition instead of claiming a free one (tests of shared partitions). */
  partition?: number;
  /** Fault injection for tests: 'kill-after-commit' (default: the FAULT_INJECTION variable). */
  fault?: string;
}

export class MariadbRedisInterface implements DataInterface {
  readonly name = 'mariadb-redis';

  readonly db: EventsDb;
  readonly rollups: Rollups;
  readonly recovery: Recovery;
  private readonly writer: BatchWriter;
  readonly now: () => Micros;

  private constructor(db: EventsDb, rollups: Rollups, recovery: Recovery, writer: BatchWriter, now: () => Micros) {
    this.db = db;
    this.rollups = rollups;
    this.recovery = recovery;
    this.writer = writer;
    this.now = now;
  }

  static async open(options: MariadbRedisOptions): Promise<MariadbRedisInterface> {
    const now = options.now ?? systemClock;
    const db = await EventsDb.open(options.mariadbUrl);
    let rollups: Rollups | undefined;
    try {
      rollups = await Rollups.connect(options.redisUrl, options.keyPrefix);
      const part = options.partition ?? (await db.claimPartition(PARTITIONS));
      const recovery = new Recovery(db, rollups, now);
      // A crash between a commit and its Redis update, or a Redis that lost its data: mend it now.
      await recovery.reconcileAll();
      const writer = new BatchWriter(db, recovery, part, now, {
        maxBatch: options.maxBatch ?? 1000,
        maxQueue: options.maxQueue ?? 20_000,
        pauseAfterFailureMs: 1000,
        fault: options.fault ?? process.env.FAULT_INJECTION,
      });
      return new MariadbRedisInterface(db, rollups, recovery, writer, now);
    } catch (error) {
      await rollups?.close();
      await db.close();
      throw error;
    }
  }

  get partition(): number {
    return this.writer.partition;
  }

  recordInitial(event: { uuid: string; symbol: Letter; guess: boolean; ts: Micros }): Promise<InitialResult> {
    return this.writer.recordInitial(event);
  }

  recordFollowup(event: { uuid: string; ts: Micros }): Promise<FollowupResult> {
    return this.writer.recordFollowup(event);
  }

  /** The bulk path: `events` (in time order, each initial before its followups) in batches of `batchSize`. */
  async loadEvents(events: RawEvent[], batchSize = 10_000): Promise<void> {
    for (let i = 0; i < events.length; i += batchSize) await this.writer.writeEvents(events.slice(i, i + batchSize));
  }

  async symbolAggregate(symbol: Letter): Promise<SymbolAggregate> {
    const sums = await this.read(['total']);
    return sumLetter(symbol, sums, []);
  }

  async rangeAggregates(lower: Micros, upper: Micros): Promise<SymbolAggregate[]> {
    const plan = planRange(lower, upper, this.now());
    const [sums, edges] = await Promise.all([
      this.read(plan.buckets.map((bucket) => `${bucket.level.tag}:${bucket.index}`)),
      this.db.sumEdges(plan.edges).catch((error: unknown) => Promise.reject(asUnavailable(error))),
    ]);
    return LETTERS.map((letter) => sumLetter(letter, sums, edges));
  }

  async *exportEvents(range: ExportRange = {}): AsyncIterable<RawEvent> {
    yield* this.db.exportEvents(range.from ?? Number.MIN_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER);
  }

  async ping(): Promise<void> {
    try {
      await Promise.all([this.db.pool.query('SELECT 1'), this.rollups.client.ping()]);
    } catch (error) {
      throw asUnavailable(error);
    }
  }

  async close(): Promise<void> {
    await this.writer.drain();
    await this.rollups.close();
    await this.db.close();
  }

  /** Sums of the given hashes over all partitions; a partition without its mark lost its rollups. */
  private async read(hashes: string[]): Promise<PartitionSums[]> {
    let sums: PartitionSums[];
    try {
      sums = await this.rollups.read(hashes);
    } catch (error) {
      throw asUnavailable(error);
    }
    const lost = sums.flatMap((partition, part) => (partition.markPresent ? [] : [part]));
    if (lost.length > 0) {
      for (const part of lost) this.recovery.rebuild(part).catch(() => undefined);
      throw new BackendUnavailableError(`the aggregates are being rebuilt from the raw events (partitions ${lost.join(', ')})`, {
        retryAfterSeconds: 2,
      });
    }
    return sums;
  }
}

function sumLetter(
  letter: Letter,
  sums: PartitionSums[],
  edges: { symbol: Letter; count: number; followups: number; lo: Micros; hi: Micros }[],
): SymbolAggregate {
  const aggregate = emptyAggregate(letter);
  const parts = [...sums.map((partition) => partition.letters.get(letter)), ...edges.filter((edge) => edge.symbol === letter)];
  for (const part of parts) {
    if (!part) continue;
    aggregate.count += part.count;
    aggregate.followups += part.followups;
    if (part.count > 0 && part.lo !== null && part.hi !== null) {
      aggregate.earliest = aggregate.earliest === null ? part.lo : Math.min(aggregate.earliest, part.lo);
      aggregate.latest = aggregate.latest === null ? part.hi : Math.max(aggregate.latest, part.hi);
    }
  }
  return aggregate;
}
