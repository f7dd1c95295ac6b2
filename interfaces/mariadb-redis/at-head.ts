// Each partition's sums as this process last read them at its log's head, kept while the head does
// not move: a read of a partition no one wrote to since is answered from here, without Redis. The
// sums of a log up to a batch are the same whoever reads them (each batch applies once, in order),
// and a batch is told from any other by its seq and random token; so kept sums are used only at
// the very head they were read at, and any write, or a database recreated or restored, moves it.

import { sameBatch, type BatchRef } from './events-db.ts';

/**
 * Reads kept per partition at one head, each under its own key: what it read (a range's list of
 * hashes, a series' groups and letter), which also tells what kind of value it kept.
 */
const MAX_READS = 64;

interface Kept {
  head: BatchRef;
  reads: Map<string, unknown>;
  /** Whether the last read found the head where it was: the partition is likely idle. */
  idle: boolean;
}

export class AtHead {
  private readonly parts = new Map<number, Kept>();

  /**
   * The partition's read of `key` at `head`, if this process read it there (kept as the key's kind
   * of value, T); notes whether the head moved.
   */
  get<T>(part: number, head: BatchRef, key: string): T | undefined {
    const kept = this.parts.get(part);
    if (kept === undefined) return undefined;
    kept.idle = sameBatch(kept.head, head);
    return kept.idle ? (kept.reads.get(key) as T | undefined) : undefined;
  }

  /**
   * Whether the next read of `key` will likely be answered from here: it is kept, and
   * the last read found the head unmoved (a partition being written to is read ahead instead).
   */
  likelyKept(part: number, key: string): boolean {
    const kept = this.parts.get(part);
    return kept !== undefined && kept.idle && kept.reads.has(key);
  }

  /** Keeps the partition's read of `key`, exact at `head`; it must not change after. */
  keep(part: number, head: BatchRef, key: string, value: unknown): void {
    let kept = this.parts.get(part);
    if (kept === undefined || !sameBatch(kept.head, head)) {
      kept = { head, reads: new Map(), idle: false };
      this.parts.set(part, kept);
    }
    if (kept.reads.size >= MAX_READS) kept.reads.clear();
    kept.reads.set(key, value);
  }
}
