// The sums of closed buckets, kept by this process so that a range read asks Redis only for the
// buckets that may still change. A bucket two or more below its level's highest is closed: only
// a write into the past changes it, and that changes its level's version (apply-batch.lua), as a
// rebuild changes every version (finish-rebuild.lua). Each read gets the versions atomically with
// its mark, so a kept sum is used only if it is still true at that mark; one that is not is
// dropped and read again.

import type { Letter } from '../contract.ts';
import { closedVersion, type Levels, type LetterSums, type PartitionView, type ViewRequest } from './rollups.ts';

/** Bucket sums kept at most (about 2 KB each): a 30-day range holds about 130 per partition. */
const MAX_KEPT = 10_000;

interface Kept {
  version: string;
  letters: Map<Letter, LetterSums>;
}

/** One partition's read: what to ask Redis for, and the kept sums it relies on. */
export interface ReadPlan {
  request: ViewRequest;
  kept: [hash: string, kept: Kept][];
}

export class ClosedBuckets {
  private readonly kept = new Map<string, Kept>();
  /** Each partition's levels at its last read: which buckets are closed, and under which version. */
  private readonly levels = new Map<number, Levels>();

  /**
   * Kept sums for the closed buckets this process holds (unless `useKept` is false); closed ones
   * it does not hold come one by one, the others summed.
   */
  plan(part: number, hashes: string[], useKept = true): ReadPlan {
    const plan: ReadPlan = { request: { part, sum: [], each: [] }, kept: [] };
    const levels = this.levels.get(part);
    for (const hash of hashes) {
      const version = closedVersion(levels, hash);
      const kept = version === undefined || !useKept ? undefined : this.kept.get(keyOf(part, hash));
      if (kept !== undefined && kept.version === version) plan.kept.push([hash, kept]);
      else (version === undefined ? plan.request.sum : plan.request.each).push(hash);
    }
    return plan;
  }

  /**
   * The sums of the partition's hashes at the view's mark, and keeps the closed buckets the view
   * got one by one; undefined when a kept sum is no longer true (dropped: plan and read again).
   */
  complete(plan: ReadPlan, view: PartitionView): Map<Letter, LetterSums>[] | undefined {
    const { part } = plan.request;
    if (view.mark === undefined) return [view.letters]; // lost: the read answers 503, keep nothing
    this.levels.set(part, view.levels);
    let stale = false;
    for (const [hash, kept] of plan.kept) {
      if (closedVersion(view.levels, hash) === kept.version) continue;
      this.kept.delete(keyOf(part, hash));
      stale = true;
    }
    for (const [hash, letters] of view.each) {
      const version = closedVersion(view.levels, hash);
      if (version !== undefined) this.keep(keyOf(part, hash), { version, letters });
    }
    if (stale) return undefined;
    return [view.letters, ...view.each.values(), ...plan.kept.map(([, kept]) => kept.letters)];
  }

  private keep(key: string, kept: Kept): void {
    this.kept.delete(key); // to the end of the order: the oldest go first
    this.kept.set(key, kept);
    if (this.kept.size > MAX_KEPT) this.kept.delete(this.kept.keys().next().value as string);
  }
}

const keyOf = (part: number, hash: string) => `${part} ${hash}`;
