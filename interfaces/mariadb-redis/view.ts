// The read path: sums of the rollups that include every committed batch, or a 503.
//
// A read learns the head of every partition's log from MariaDB (after its request arrived, so
// every write acknowledged before it is there), and reads the sums and the mark they belong to,
// atomically, from Redis. A view at the head answers alone; one a few batches behind gets
// those batches' events from MariaDB added (the answer is exact, the view catches up by itself);
// one further behind is caught up by this process, then read again (a writer that cannot reach
// Redis does not hold up the others' reads); one lost or holding another log's batches is mended,
// and the read answers 503.
// Closed buckets' sums, of a range or a series, come from this process's copy when they are still
// true (closed-buckets.ts), and a partition whose head did not move since this process read it at
// its head is answered from that read (at-head.ts).

import { BackendUnavailableError, emptyAggregate, type Letter, type SymbolAggregate } from '../contract.ts';
import type { Micros } from '../time.ts';
import { AtHead } from './at-head.ts';
import { ClosedBuckets, countsOf, type ReadPlan } from './closed-buckets.ts';
import { Coalesced } from '../coalesced.ts';
import { beforeDeadline, deadlineIn } from './deadline.ts';
import { DeltaSet, type LetterDelta } from './deltas.ts';
import type { BatchRef, EdgeSums, EventsDb } from './events-db.ts';
import { standing, type Recovery } from './recovery.ts';
import type { LetterSums, Rollups, SeriesCounts } from './rollups.ts';

/** A view this many batches behind its head is completed from MariaDB; further behind, caught up first. */
const MAX_TAIL_BATCHES = 20;
/** Reads of a partition that rely on kept sums; past it (writes into the past keep coming), all from Redis. */
const KEPT_ATTEMPTS = 2;

/** A partition's read at its mark (undefined: the rollups were lost). */
interface PlacedView<T> {
  mark: BatchRef | undefined;
  value: T;
}

/**
 * One kind of read of the partitions' views: the range's sums per letter, or a series' counts per
 * point. What it asks Redis, and how the batches a view trails by add to what it got.
 */
interface Reading<T> {
  /** What is read, and of which kind (for what this process keeps at the head). */
  key: string;
  read(parts: number[]): Promise<Map<number, PlacedView<T>>>;
  /** `value` (its own, fresh from Redis) with the deltas of the batches it trails by added. */
  addTail(value: T, deltas: DeltaSet): T;
}

export class View {
  private readonly db: EventsDb;
  private readonly rollups: Rollups;
  private readonly recovery: Recovery;
  private readonly now: () => Micros;
  private readonly heads: Coalesced<BatchRef[]>;
  private readonly closed = new ClosedBuckets();
  private readonly atHead = new AtHead();
  /** The partitions that had batches at the last read. */
  private nonEmpty: number[] = [];

  private readonly deadlineMs: number;

  constructor(db: EventsDb, rollups: Rollups, recovery: Recovery, now: () => Micros, deadlineMs: number) {
    this.deadlineMs = deadlineMs;
    this.db = db;
    this.rollups = rollups;
    this.recovery = recovery;
    this.now = now;
    this.heads = new Coalesced(() => db.heads());
  }

  /**
   * Each partition's sums of the given hashes ('total', 's:123', ...), every committed batch
   * included; a 503 past the deadline, whichever of its steps was slow.
   */
  sums(hashes: string[]): Promise<Map<Letter, LetterSums>[]> {
    return this.placedReads({
      key: hashes.join(' '),
      read: (parts) => this.readViews(parts, hashes),
      addTail: (letters, deltas) => addSums(letters, hashes.flatMap((hash) => {
        const delta = deltas.hashes.get(hash);
        return delta ? [delta.letters] : [];
      })),
    });
  }

  /**
   * Each partition's counts of a series' points, of one letter or all: each point's initials in
   * the buckets of its group of hashes, and their followups; every committed batch included, as
   * sums are.
   */
  seriesCounts(groups: string[][], letter: Letter | null): Promise<SeriesCounts[][]> {
    return this.placedReads({
      key: `series ${letter ?? '*'} ${groups.map((group) => group.join(',')).join(' ')}`,
      read: (parts) => this.readSeriesViews(parts, groups, letter),
      addTail: (counts, deltas) => addCounts(counts, groups, letter, deltas),
    });
  }

  /** Each partition's counts of the groups; a partition whose kept sums proved stale is read again. */
  private async readSeriesViews(parts: number[], groups: string[][], letter: Letter | null): Promise<Map<number, PlacedView<SeriesCounts[]>>> {
    const hashes = groups.flat();
    const pointOf = groups.flatMap((group, point) => group.map(() => point));
    const placed = new Map<number, PlacedView<SeriesCounts[]>>();
    for (let attempt = 1; parts.length > 0; attempt++) {
      const plans = this.closed.plan(parts, hashes, attempt <= KEPT_ATTEMPTS);
      const requests = plans.map(({ part, sum, each }) => ({ part, sum: sum.map((i) => hashes[i] as string), points: sum.map((i) => pointOf[i] as number), each: each.map((i) => hashes[i] as string) }));
      const views = await this.rollups.readSeries(requests, letter).catch((error: unknown) => {
        throw BackendUnavailableError.wrap(error, 'the aggregates store (Redis)');
      });
      parts = [];
      views.forEach((view, i) => {
        const plan = plans[i] as ReadPlan;
        if (!this.closed.settle(plan, hashes, view)) return void parts.push(plan.part);
        const counts = groups.map((): SeriesCounts => ({ count: 0, followups: 0 }));
        const add = (point: number, more: SeriesCounts) => {
          (counts[point] as SeriesCounts).count += more.count;
          (counts[point] as SeriesCounts).followups += more.followups;
        };
        for (const [point, more] of view.points) add(point, more);
        plan.each.forEach((index, j) => add(pointOf[index] as number, countsOf({ letters: view.each[j] as Map<Letter, LetterSums> }, letter)));
        for (const [index, kept] of plan.kept) add(pointOf[index] as number, countsOf(kept, letter));
        placed.set(plan.part, { mark: view.mark, value: counts });
      });
    }
    return placed;
  }

  /** Each partition's read, within the deadline, whichever of its steps was slow. */
  private placedReads<T>(reading: Reading<T>): Promise<T[]> {
    return beforeDeadline(this.placed(reading), deadlineIn(this.deadlineMs), 'the aggregates could not be read in time');
  }

  private async placed<T>(reading: Reading<T>): Promise<T[]> {
    // The heads and the views are read at once: a view is atomic with its mark, so it can be
    // placed in the log whichever comes first. Partitions that had batches at the last read are
    // read ahead, but for those whose last read found their head unmoved (likely answered from
    // what this process kept at it); those that prove to have moved, and one that has its first
    // batch since, are read after.
    const ahead = this.nonEmpty.filter((part) => !this.atHead.likelyKept(part, reading.key));
    const [heads, early] = await Promise.all([this.heads.get(), reading.read(ahead)]);
    const parts = heads.flatMap((head, part) => (head.seq > 0 ? [part] : []));
    this.nonEmpty = parts;
    const kept = new Map(
      parts.flatMap((part) => {
        const value = this.atHead.get<T>(part, heads[part] as BatchRef, reading.key);
        return value === undefined ? [] : [[part, value] as const];
      }),
    );
    const late = await reading.read(parts.filter((part) => !early.has(part) && !kept.has(part)));
    return Promise.all(
      parts.map(async (part) => {
        const head = heads[part] as BatchRef;
        if (kept.has(part)) return kept.get(part) as T;
        const placed = await this.place(part, head, (early.get(part) ?? late.get(part)) as PlacedView<T>, reading);
        if (placed !== undefined) return placed;
        // Far behind: its writer does not project (cut off from Redis, stalled, gone) while it may
        // go on committing. This process reaches both stores, so it catches the view up (each batch
        // applies once, whoever applies it), then reads it again, within the read's deadline.
        await this.recovery.reconcile(part);
        const again = (await reading.read([part])).get(part) as PlacedView<T>;
        return (await this.place(part, head, again, reading)) ?? this.refuse(part, 'behind', again.mark);
      }),
    );
  }

  /**
   * A partition's sums at `head` from its view: the view itself at the head, or with the few
   * batches it trails by added from MariaDB; undefined when it trails by more. A view lost or
   * another log's is a 503 (mended meanwhile).
   */
  private async place<T>(part: number, head: BatchRef, { mark, value }: PlacedView<T>, reading: Reading<T>): Promise<T | undefined> {
    const where = await standing(this.db, part, head, mark);
    if (where === 'current') {
      // At the head itself (not at a batch applied since the head was read): kept.
      if ((mark as BatchRef).seq === head.seq) this.atHead.keep(part, head, reading.key, value);
      return value;
    }
    if (where === 'behind' && head.seq - (mark as BatchRef).seq > MAX_TAIL_BATCHES) return undefined;
    if (where === 'behind') {
      const tail = await this.tail(part, mark as BatchRef, head);
      if (tail) {
        const atHead = reading.addTail(value, tail);
        this.atHead.keep(part, head, reading.key, atHead);
        return atHead;
      }
    }
    return this.refuse(part, where, mark);
  }

  /** Each partition's sums of the hashes; a partition whose kept sums proved stale is read again. */
  private async readViews(parts: number[], hashes: string[]): Promise<Map<number, PlacedView<Map<Letter, LetterSums>>>> {
    const placed = new Map<number, PlacedView<Map<Letter, LetterSums>>>();
    for (let attempt = 1; parts.length > 0; attempt++) {
      const plans = this.closed.plan(parts, hashes, attempt <= KEPT_ATTEMPTS);
      const requests = plans.map(({ part, sum, each }) => ({ part, sum: sum.map((i) => hashes[i] as string), each: each.map((i) => hashes[i] as string) }));
      const views = await this.rollups.read(requests).catch((error: unknown) => {
        throw BackendUnavailableError.wrap(error, 'the aggregates store (Redis)');
      });
      parts = [];
      views.forEach((view, i) => {
        const plan = plans[i] as ReadPlan;
        if (!this.closed.settle(plan, hashes, view)) return void parts.push(plan.part);
        placed.set(plan.part, { mark: view.mark, value: addSums(new Map(), [view.letters, ...view.each, ...plan.kept.map(([, kept]) => kept.letters)]) });
      });
    }
    return placed;
  }

  /**
   * What the batches after `mark` up to `head` add to the rollups, read from MariaDB; undefined
   * when the log has no batch `mark` (the view is another log's).
   */
  private async tail(part: number, mark: BatchRef, head: BatchRef): Promise<DeltaSet | undefined> {
    const { batches, counted } = await this.db.logFrom(part, mark.seq, head.seq - mark.seq + 1);
    if (batches[0]?.seq !== mark.seq || batches[0].token !== mark.token) return undefined;
    return DeltaSet.of(counted, this.now());
  }

  private refuse(part: number, where: string, mark: BatchRef | undefined): never {
    // Mended in the background; this read cannot wait for it.
    const mending = where === 'behind' ? this.recovery.reconcile(part) : this.recovery.rebuild(part, mark);
    mending.catch(() => undefined);
    const why = where === 'behind' ? 'catching up with the raw events' : 'being rebuilt from the raw events';
    throw new BackendUnavailableError(`the aggregates of partition ${part} are ${why}`, { retryAfterSeconds: 1 });
  }
}

/** One letter's dashboard from the partitions' sums and the edges of a range read from MariaDB. */
export function aggregateOf(letter: Letter, sums: Map<Letter, LetterSums>[], edges: EdgeSums[]): SymbolAggregate {
  const aggregate = emptyAggregate(letter);
  for (const part of [...sums.map((letters) => letters.get(letter)), ...edges.filter((edge) => edge.symbol === letter)]) {
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

/** Adds sums (from Redis, kept, or a tail's deltas) into `into`, whose entries are its own. */
function addSums(into: Map<Letter, LetterSums>, more: Iterable<Map<Letter, LetterSums | LetterDelta>>): Map<Letter, LetterSums> {
  for (const letters of more) {
    for (const [letter, delta] of letters) {
      let sums = into.get(letter);
      if (!sums) {
        sums = { count: 0, followups: 0, lo: null, hi: null };
        into.set(letter, sums);
      }
      sums.count += delta.count;
      sums.followups += delta.followups;
      if (delta.count > 0 && delta.lo !== null && delta.hi !== null) {
        sums.lo = sums.lo === null ? delta.lo : Math.min(sums.lo, delta.lo);
        sums.hi = sums.hi === null ? delta.hi : Math.max(sums.hi, delta.hi);
      }
    }
  }
  return into;
}

/** Adds to each point's counts (its own) what the deltas add to its group of hashes, of the letter or all. */
function addCounts(counts: SeriesCounts[], groups: string[][], letter: Letter | null, deltas: DeltaSet): SeriesCounts[] {
  groups.forEach((group, i) => {
    const point = counts[i] as SeriesCounts;
    for (const hash of group) {
      for (const [symbol, delta] of deltas.hashes.get(hash)?.letters ?? []) {
        if (letter !== null && symbol !== letter) continue;
        point.count += delta.count;
        point.followups += delta.followups;
      }
    }
  });
  return counts;
}
