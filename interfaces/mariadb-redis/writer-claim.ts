// The partition this process writes: the first one no other writer holds, claimed in Redis under
// a lease that it renews while it runs, so that writers on any number of hosts rarely share one,
// whatever MariaDB runs as (Galera has no GET_LOCK). Sharing is still correct, only slower: the
// batch transaction locks the partition's last batch, so writers of one partition take turns.
// With every partition held (more writers than partitions), or Redis away at start, a random one,
// shared.

import { randomInt, randomUUID } from 'node:crypto';
import { WRITER_CLAIM_MS, type Rollups } from './rollups.ts';

export class WriterClaim {
  readonly part: number;
  private readonly rollups: Rollups;
  private readonly holder: string;
  private readonly renewer: NodeJS.Timeout | undefined;

  /** Claims one of partitions 0 to `partitions` - 1. */
  static async take(rollups: Rollups, partitions: number): Promise<WriterClaim> {
    const holder = randomUUID();
    const claimed = await rollups.claimWriter(partitions, holder).catch(() => undefined);
    return new WriterClaim(rollups, holder, claimed ?? randomInt(partitions), claimed !== undefined);
  }

  private constructor(rollups: Rollups, holder: string, part: number, claimed: boolean) {
    this.rollups = rollups;
    this.holder = holder;
    this.part = part;
    if (!claimed) return;
    // A renewal Redis did not answer is retried at the next; a claim lost to another writer
    // meanwhile only means the two share the partition.
    this.renewer = setInterval(() => void rollups.renewWriter(part, holder).catch(() => undefined), WRITER_CLAIM_MS / 3);
    this.renewer.unref();
  }

  /** Leaves the partition to the next writer that starts. */
  async release(): Promise<void> {
    if (this.renewer === undefined) return;
    clearInterval(this.renewer);
    await this.rollups.releaseWriter(this.part, this.holder).catch(() => undefined);
  }
}
