// The sums of closed buckets, kept by this process so that a read (a range's or a series') asks
// Redis only for the buckets that may still change. A bucket two or more below its level's highest
// is closed: only a write into the past changes it, and that changes its level's version
// (apply-batch.lua), as a rebuild changes every version (finish-rebuild.lua). Each read gets the
// versions atomically with its mark, so a kept sum is used only if it is still true at that mark;
// one that is not is dropped and read again.

import type { Letter } from '../contract.ts';
import { bucketOf } from './buckets.ts';
import type { Levels, LetterSums, SeriesCounts } from './rollups.ts';

/**
 * Buckets kept at most, each for every partition that read it (about 2 KB a partition): a 30-day
 * series at 1h holds about 720, a range about 130. A read of more than half of it keeps nothing
 * new (it would push out what it keeps, read after read): Redis sums its closed buckets too.
 */
const MAX_KEPT = 2_000;

export interface Kept {
  version: string;
  letters: Map<Letter, LetterSums>;
  /** All letters' counts together, once a series asked for them. */
  all?: SeriesCounts;
}

/**
 * One partition's read of a list of hashes, each by its place in the list: the ones that may change
 * (summed by Redis), the closed ones this process does not hold (read whole, then kept), and the
 * closed ones held.
 */
export interface ReadPlan {
  part: number;
  sum: number[];
  each: number[];
  kept: [index: number, kept: Kept][];
}

/** What a read of a plan saw: the mark and levels it belongs to, and the hashes it read whole (in the plan's order). */
export interface ClosedRead {
  mark: unknown;
  levels: Levels;
  each: Map<Letter, LetterSums>[];
}

export class ClosedBuckets {
  /** By hash, then by partition. */
  private readonly kept = new Map<string, (Kept | undefined)[]>();
  /** Each partition's levels at its last read: which buckets are closed, and under which version. */
  private readonly levels = new Map<number, Levels>();

  /**
   * Each partition's plan to read `hashes`: kept sums for the closed buckets this process holds
   * (unless `useKept` is false); closed ones it does not hold come whole, the others summed.
   */
  plan(parts: readonly number[], hashes: readonly string[], useKept = true): ReadPlan[] {
    const plans = parts.map((part): ReadPlan => ({ part, sum: [], each: [], kept: [] }));
    const keepNew = hashes.length <= MAX_KEPT / 2;
    hashes.forEach((hash, index) => {
      const bucket = bucketOf(hash);
      const kept = useKept ? this.kept.get(hash) : undefined;
      for (const plan of plans) {
        const version = versionOf(this.levels.get(plan.part), bucket);
        const held = version === undefined ? undefined : kept?.[plan.part];
        if (held !== undefined && held.version === version) plan.kept.push([index, held]);
        else (version !== undefined && keepNew ? plan.each : plan.sum).push(index);
      }
    });
    return plans;
  }

  /**
   * Keeps the closed buckets a read got whole; false when a kept sum the plan relied on is no
   * longer true at the read's mark (dropped: plan and read again).
   */
  settle(plan: ReadPlan, hashes: readonly string[], read: ClosedRead): boolean {
    if (read.mark === undefined) return true; // lost: the read answers 503, keep nothing
    const { part } = plan;
    this.levels.set(part, read.levels);
    let stale = false;
    for (const [index, kept] of plan.kept) {
      if (closedVersion(read.levels, hashes[index] as string) === kept.version) continue;
      this.drop(hashes[index] as string, part);
      stale = true;
    }
    plan.each.forEach((index, i) => {
      const hash = hashes[index] as string;
      const version = closedVersion(read.levels, hash);
      if (version !== undefined) this.keep(hash, part, { version, letters: read.each[i] as Map<Letter, LetterSums> });
    });
    return !stale;
  }

  private keep(hash: string, part: number, kept: Kept): void {
    const parts = this.kept.get(hash) ?? [];
    this.kept.delete(hash); // to the end of the order: the oldest go first
    this.kept.set(hash, parts);
    parts[part] = kept;
    if (this.kept.size > MAX_KEPT) this.kept.delete(this.kept.keys().next().value as string);
  }

  private drop(hash: string, part: number): void {
    const parts = this.kept.get(hash);
    if (parts) parts[part] = undefined;
  }
}

/**
 * The version under which a bucket's sums stay true, given its partition's levels: a bucket at
 * least two below its level's highest is closed, and a write into it (apply-batch) or a rebuild
 * (finish-rebuild) changes the version. Undefined for a bucket that may still change under the
 * same version, and for the totals.
 */
const closedVersion = (levels: Levels | undefined, hash: string): string | undefined => versionOf(levels, bucketOf(hash));

function versionOf(levels: Levels | undefined, bucket: { tag: string; index: number } | undefined): string | undefined {
  const level = bucket && levels?.get(bucket.tag);
  return level && bucket.index < level.highest - 1 ? level.version : undefined;
}

/** A bucket's counts of one letter, or of all (worked out once for a kept one). */
export function countsOf(kept: Pick<Kept, 'letters' | 'all'>, letter: Letter | null): SeriesCounts {
  if (letter !== null) return kept.letters.get(letter) ?? { count: 0, followups: 0 };
  if (kept.all) return kept.all;
  const all = { count: 0, followups: 0 };
  for (const sums of kept.letters.values()) {
    all.count += sums.count;
    all.followups += sums.followups;
  }
  kept.all = all;
  return all;
}
