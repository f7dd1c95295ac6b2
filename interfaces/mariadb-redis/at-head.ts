// Each partition's sums as this process last read them at its log's head, kept while the head does
// not move: a read of a partition no one wrote to since is answered from here, without Redis. The
// sums of a log up to a batch are the same whoever reads them (each batch applies once, in order),
// and a batch is told from any other by its seq and random token; so kept sums are used only at
// the very head they were read at, and any write, or a database recreated or restored, moves it.

import type { Letter } from '../contract.ts';
import { sameBatch, type BatchRef } from './events-db.ts';
import type { LetterSums } from './rollups.ts';

/** Reads kept per partition at one head, each for its own list of hashes (a range read is one). */
const MAX_READS = 64;

interface Kept {
  head: BatchRef;
  reads: Map<string, Map<Letter, LetterSums>>;
  /** Whether the last read found the head where it was: the partition is likely idle. */
  idle: boolean;
}

export class AtHead {
  private readonly parts = new Map<number, Kept>();

  /** The partition's sums of these hashes at `head`, if this process read them there; notes whether the head moved. */
  get(part: number, head: BatchRef, hashes: string[]): Map<Letter, LetterSums> | undefined {
    const kept = this.parts.get(part);
    if (kept === undefined) return undefined;
    kept.idle = sameBatch(kept.head, head);
    return kept.idle ? kept.reads.get(keyOf(hashes)) : undefined;
  }

  /**
   * Whether the next read of these hashes will likely be answered from here: they are kept, and
   * the last read found the head unmoved (a partition being written to is read ahead instead).
   */
  likelyKept(part: number, hashes: string[]): boolean {
    const kept = this.parts.get(part);
    return kept !== undefined && kept.idle && kept.reads.has(keyOf(hashes));
  }

  /** Keeps the partition's sums of these hashes, exact at `head`; they must not change after. */
  keep(part: number, head: BatchRef, hashes: string[], letters: Map<Letter, LetterSums>): void {
    let kept = this.parts.get(part);
    if (kept === undefined || !sameBatch(kept.head, head)) {
      kept = { head, reads: new Map(), idle: false };
      this.parts.set(part, kept);
    }
    if (kept.reads.size >= MAX_READS) kept.reads.clear();
    kept.reads.set(keyOf(hashes), letters);
  }
}

const keyOf = (hashes: string[]) => hashes.join(' ');
