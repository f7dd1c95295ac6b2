// What a batch of events adds to the rollups: per aggregate hash (the totals and one bucket of each
// level), per letter, a count, followups, and the smallest and largest initial timestamp.
// A followup adds to the hashes of its initial's time, since ranges select initials.

import type { Letter } from '../contract.ts';
import type { Micros } from '../time.ts';
import { bucketExpiry, bucketHash, LEVELS } from './buckets.ts';
import type { CountedEvent } from './events-db.ts';

export interface LetterDelta {
  count: number;
  followups: number;
  lo: Micros;
  hi: Micros;
}

export interface HashDelta {
  /** Key suffix: 'total' or `<level tag>:<bucket index>`. */
  hash: string;
  /** Unix seconds, 0: never. */
  expireAtSeconds: number;
  letters: Map<Letter, LetterDelta>;
}

/** The deltas of one letter in one second, before they go to the totals and a bucket of each level. */
export interface SecondDelta {
  /** Unix seconds. */
  second: number;
  letter: Letter;
  delta: LetterDelta;
}

/**
 * Accumulates a batch per hash, and on demand per second as well (what apply-batch takes); `now`
 * decides which fine buckets are still kept.
 */
export class DeltaSet {
  static of(events: Iterable<CountedEvent>, now: Micros, bySecond = false): DeltaSet {
    const deltas = new DeltaSet(now, bySecond);
    for (const event of events) deltas.addCounted(event);
    return deltas;
  }

  readonly hashes = new Map<string, HashDelta>();
  /** Keyed by second and letter; undefined unless asked for. */
  readonly seconds: Map<string, SecondDelta> | undefined;
  private readonly now: Micros;

  constructor(now: Micros, bySecond = false) {
    this.now = now;
    this.seconds = bySecond ? new Map() : undefined;
  }

  addInitial(symbol: Letter, ts: Micros): void {
    this.add(symbol, ts, (delta) => {
      delta.count++;
      if (ts < delta.lo) delta.lo = ts;
      if (ts > delta.hi) delta.hi = ts;
    });
  }

  /** A followup of the initial (`symbol`, `initialTs`). */
  addFollowup(symbol: Letter, initialTs: Micros): void {
    this.add(symbol, initialTs, (delta) => delta.followups++);
  }

  /** An event as MariaDB's batches counted it. */
  addCounted(event: CountedEvent): void {
    if (event.kind === 'initial') this.addInitial(event.symbol, event.initialTs);
    else this.addFollowup(event.symbol, event.initialTs);
  }

  /** The same deltas cut into sets of at most `hashes` hashes, for writes that need not be atomic. */
  *slices(hashes: number): Iterable<DeltaSet> {
    const all = [...this.hashes.values()];
    for (let i = 0; i < all.length; i += hashes) {
      const slice = new DeltaSet(this.now);
      for (const entry of all.slice(i, i + hashes)) slice.hashes.set(entry.hash, entry);
      yield slice;
    }
  }

  private add(symbol: Letter, ts: Micros, change: (delta: LetterDelta) => void): void {
    if (this.seconds) change(this.inSecond(this.seconds, symbol, ts));
    change(this.letter('total', 0, symbol));
    for (const level of LEVELS) {
      const { keep, expireAtSeconds } = bucketExpiry(level, ts, this.now);
      if (keep) change(this.letter(bucketHash(level.tag, Math.floor(ts / level.micros)), expireAtSeconds, symbol));
    }
  }

  private inSecond(seconds: Map<string, SecondDelta>, symbol: Letter, ts: Micros): LetterDelta {
    const second = Math.floor(ts / 1_000_000);
    const key = `${second}${symbol}`;
    let entry = seconds.get(key);
    if (!entry) {
      entry = { second, letter: symbol, delta: emptyDelta() };
      seconds.set(key, entry);
    }
    return entry.delta;
  }

  private letter(hash: string, expireAtSeconds: number, symbol: Letter): LetterDelta {
    let entry = this.hashes.get(hash);
    if (!entry) {
      entry = { hash, expireAtSeconds, letters: new Map() };
      this.hashes.set(hash, entry);
    }
    let delta = entry.letters.get(symbol);
    if (!delta) {
      delta = emptyDelta();
      entry.letters.set(symbol, delta);
    }
    return delta;
  }
}

const emptyDelta = (): LetterDelta => ({ count: 0, followups: 0, lo: Infinity, hi: -Infinity });
