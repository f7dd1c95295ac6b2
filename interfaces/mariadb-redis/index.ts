// The production interface: raw events in MariaDB (the source of truth, a log of batches), every
// aggregate precomputed in Redis (a view of that log that a read never trusts past what it can
// prove). See docs/mariadb-redis.md for the design and its guarantees.

import { BackendUnavailableError, LETTERS, type BackendMetric, type DataInterface, type ExportRange, type FollowupResult, type InitialResult, type Letter, type RawEvent, type SymbolAggregate } from '../contract.ts';
import { systemClock, type Micros } from '../time.ts';
import { BatchWriter } from './batch-writer.ts';
import { checkedStarts, emptyPoints, type SeriesPoint, type SeriesQuery } from '../series.ts';
import { bucketHash, planRange, planSeries } from './buckets.ts';
import { EventsDb } from './events-db.ts';
import { DEFAULT_PARTITIONS, MAX_PARTITIONS } from './partitions.ts';
import { Recovery } from './recovery.ts';
import { Rollups } from './rollups.ts';
import type { BackendTls } from './tls.ts';
import { aggregateOf, View } from './view.ts';
import { WriterClaim } from './writer-claim.ts';

export interface MariadbRedisOptions {
  mariadbUrl: string;
  redisUrl: string;
  /** TLS files per store (see tls.ts): MariaDB over TLS when set, Redis when its URL is rediss://. */
  tls?: BackendTls;
  /** Prefix of every Redis key (default 'og:'): lets two deployments share a Redis. */
  keyPrefix?: string;
  /** "Now" for bucket retention; tests that choose old timestamps move it. */
  now?: () => Micros;
  /** No request waits on MariaDB or Redis longer (ms, default 2000); then a 503. */
  deadlineMs?: number;
  maxBatch?: number;
  maxQueue?: number;
  /**
   * How many partitions writers claim (default 8, at most MAX_PARTITIONS): at least the number of writing
   * processes of the deployment (WORKERS on every host), so that each writes its own. Any number
   * works with any data: reads and mending cover every partition the log has.
   */
  partitions?: number;
  /** Write to this partition instead of claiming a free one (tests of shared partitions). */
  partition?: number;
}


/** How often each process compares the view with the log and mends it. */
const SWEEP_EVERY_MS = 1000;

export class MariadbRedisInterface implements DataInterface {
  readonly name = 'mariadb-redis';
  readonly db: EventsDb;
  readonly rollups: Rollups;
  readonly recovery: Recovery;
  readonly now: () => Micros;
  private readonly writer: BatchWriter;
  private readonly view: View;
  private readonly sweeper: NodeJS.Timeout;
  private readonly claim: WriterClaim | undefined;
  private readonly metricListeners: ((metric: BackendMetric) => void)[] = [];

  private constructor(db: EventsDb, rollups: Rollups, writer: BatchWriter, claim: WriterClaim | undefined, recovery: Recovery, now: () => Micros, deadlineMs: number) {
    this.db = db;
    this.claim = claim;
    this.rollups = rollups;
    this.writer = writer;
    this.recovery = recovery;
    this.now = now;
    this.view = new View(db, rollups, recovery, now, deadlineMs);
    writer.onCommitted = (events, commitSeconds) => this.report({ kind: 'batch', events, commitSeconds });
    recovery.onTrail = (batches) => this.report({ kind: 'view-trail', batches });
    let sweeping = false;
    this.sweeper = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      recovery
        .sweep()
        .catch(() => undefined) // MariaDB or Redis away: the next sweep tries again
        .finally(() => (sweeping = false));
    }, SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  static async open(options: MariadbRedisOptions): Promise<MariadbRedisInterface> {
    const now = options.now ?? systemClock;
    const deadlineMs = options.deadlineMs ?? 2000;
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) throw new RangeError(`partitions: ${partitions}; use a whole number from 1 to ${MAX_PARTITIONS}`);
    const db = await EventsDb.open(options.mariadbUrl, { deadlineMs, tls: options.tls?.mariadb });
    let rollups: Rollups | undefined;
    try {
      rollups = await Rollups.connect(options.redisUrl, { prefix: options.keyPrefix, deadlineMs, tls: options.tls?.redis });
      const recovery = new Recovery(db, rollups, now, partitions);
      // A crash between a commit and its Redis update, a Redis that lost its data or holds
      // another log's: mend it now, as far as it goes (another process's rebuild may hold a
      // partition for long); the sweep goes on with the rest.
      await recovery.mendAll().catch(() => undefined);
      const claim = options.partition === undefined ? await WriterClaim.take(rollups, partitions) : undefined;
      const writer = new BatchWriter(db, recovery, claim?.part ?? (options.partition as number), {
        maxBatch: options.maxBatch ?? 1000,
        maxQueue: options.maxQueue ?? 20_000,
        pauseAfterFailureMs: 1000,
        lanes: 2,
        deadlineMs,
      });
      return new MariadbRedisInterface(db, rollups, writer, claim, recovery, now, deadlineMs);
    } catch (error) {
      await rollups?.close();
      await db.close();
      throw error;
    }
  }

  onMetric(listener: (metric: BackendMetric) => void): void {
    this.metricListeners.push(listener);
  }

  private report(metric: BackendMetric): void {
    for (const listener of this.metricListeners) listener(metric);
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
    return aggregateOf(symbol, await this.view.sums(['total']), []);
  }

  async symbolAggregates(): Promise<SymbolAggregate[]> {
    const sums = await this.view.sums(['total']);
    return LETTERS.map((letter) => aggregateOf(letter, sums, []));
  }

  async rangeAggregates(lower: Micros, upper: Micros): Promise<SymbolAggregate[]> {
    const plan = planRange(lower, upper, this.now());
    const [sums, edges] = await Promise.all([this.view.sums(plan.buckets.map((bucket) => bucketHash(bucket.level.tag, bucket.index))), this.db.sumEdges(plan.edges)]);
    return LETTERS.map((letter) => aggregateOf(letter, sums, edges));
  }

  /** Each point planned as a range: its buckets summed per partition in Redis, its edges counted by MariaDB. */
  async series(query: SeriesQuery): Promise<SeriesPoint[]> {
    const starts = checkedStarts(query);
    const plan = planSeries(starts, query.upper, this.now());
    const [parts, edges] = await Promise.all([
      this.view.seriesCounts(plan.groups, query.symbol),
      this.db.countStretches(plan.edges.map((edge) => edge.stretch), query.symbol),
    ]);
    const points = emptyPoints(starts);
    const add = (point: number, counts: { count: number; followups: number }) => {
      (points[point] as SeriesPoint).count += counts.count;
      (points[point] as SeriesPoint).followups += counts.followups;
    };
    for (const counts of parts) counts.forEach((pointCounts, point) => add(point, pointCounts));
    plan.edges.forEach((edge, i) => add(edge.point, edges[i] as { count: number; followups: number }));
    return points;
  }

  async *exportEvents(range: ExportRange = {}): AsyncIterable<RawEvent> {
    yield* this.db.exportEvents(range.from ?? Number.MIN_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER);
  }

  async ping(): Promise<void> {
    await Promise.all([
      this.db.ping(),
      this.rollups.ping().catch((error: unknown) => {
        throw BackendUnavailableError.wrap(error, 'the aggregates store (Redis)');
      }),
    ]);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.writer.drain();
    await this.claim?.release();
    await this.rollups.close();
    await this.db.close();
  }
}
