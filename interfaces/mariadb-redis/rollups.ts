// The aggregates in Redis: key layout, the client (a single server or a Cluster, found by asking the
// server), and the two scripts that write and read them.
//
// Writes are spread over PARTITIONS partitions, one per writing process: each partition's keys share
// a hash tag, so one script touches one Cluster slot, and a hot letter does not pin every write to
// one node. Reads sum the partitions.

import { readFileSync } from 'node:fs';
import { Cluster, Redis, type Result } from 'ioredis';
import { BackendUnavailableError, isLetter, type Letter } from '../contract.ts';
import type { Micros } from '../time.ts';
import type { DeltaSet } from './deltas.ts';

export const PARTITIONS = 8;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    // Arrays are flattened into the command by ioredis: a large batch has too many arguments to spread.
    ogApply(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<ApplyResult, Context>;
    ogRead(numberOfKeys: number, keys: string[]): Result<(string | number)[], Context>;
  }
}

export type ApplyResult = 'applied' | 'duplicate' | 'gap' | 'lost' | 'stale';

/** A partition's sums over some hashes; `markPresent` false means its rollups were lost. */
export interface PartitionSums {
  markPresent: boolean;
  letters: Map<Letter, { count: number; followups: number; lo: Micros | null; hi: Micros | null }>;
}

const script = (name: string) => readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');

export class Rollups {
  readonly client: Redis | Cluster;
  private readonly prefix: string;

  private constructor(client: Redis | Cluster, prefix: string) {
    this.client = client;
    this.prefix = prefix;
    // Connection errors reach the callers through the commands that fail (a 503); the client
    // reconnects by itself. Without a listener ioredis would print each one.
    client.on('error', () => undefined);
    client.defineCommand('ogApply', { lua: script('apply') });
    client.defineCommand('ogRead', { lua: script('read'), readOnly: true });
  }

  /** Connects to a Redis server, or to the Cluster it belongs to. Commands fail at once while disconnected (no queue). */
  static async connect(url: string, prefix = 'og:'): Promise<Rollups> {
    // No offline queue: while Redis is away, commands fail at once (a quick 503) instead of piling up.
    // Auto-pipelining sends the commands of one tick (many requests' reads) in one write.
    const options = {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 5000,
    };
    const probe = new Redis(url, { ...options, lazyConnect: true, retryStrategy: () => null });
    try {
      await probe.connect();
      const clusterEnabled = /cluster_enabled:1/.test(await probe.info('cluster'));
      if (!clusterEnabled) {
        probe.disconnect();
        const client = new Redis(url, { ...options, lazyConnect: true });
        await client.connect();
        return new Rollups(client, prefix);
      }
      const { host, port, password, username } = probe.options;
      probe.disconnect();
      const cluster = new Cluster([{ host, port }], {
        enableOfflineQueue: false,
        redisOptions: { ...options, password, username },
      });
      await new Promise<void>((resolve, reject) => {
        cluster.once('ready', resolve);
        cluster.once('error', reject);
      });
      return new Rollups(cluster, prefix);
    } catch (error) {
      probe.disconnect();
      throw new BackendUnavailableError(`Redis at ${url} does not answer: ${(error as Error).message}; is it running?`, { cause: error });
    }
  }

  key(partition: number, suffix: string): string {
    return `${this.prefix}{p${partition}}:${suffix}`;
  }

  async apply(partition: number, mode: 'batch' | 'rebuild', seqOrToken: string | number, deltas: DeltaSet): Promise<ApplyResult> {
    const keys = [this.key(partition, 'mark'), this.key(partition, 'lease')];
    const args: (string | number)[] = [mode, seqOrToken];
    for (const { hash, expireAtSeconds, letters } of deltas.hashes.values()) {
      keys.push(this.key(partition, hash));
      args.push(expireAtSeconds, letters.size);
      for (const [letter, d] of letters) args.push(letter, d.count, d.followups, d.count ? d.lo : 0, d.count ? d.hi : 0);
    }
    return this.client.ogApply(keys.length, keys, args);
  }

  /**
   * Sums the given hashes ('total', 's:123', ...) of every partition, one script call per partition
   * that holds anything (its mark is past 0; with one writer, 7 of the 8 are empty).
   */
  async read(hashes: string[]): Promise<PartitionSums[]> {
    const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
    const marks = await Promise.all(partitions.map((p) => this.client.get(this.key(p, 'mark'))));
    return Promise.all(
      partitions.map(async (p): Promise<PartitionSums> => {
        if (marks[p] === null || marks[p] === '0') return { markPresent: marks[p] !== null, letters: new Map() };
        const keys = [this.key(p, 'mark'), ...hashes.map((hash) => this.key(p, hash))];
        return parseSums(await this.client.ogRead(keys.length, keys));
      }),
    );
  }

  /** Ends a rebuild: the mark says which batches the rebuilt rollups hold; the lease is dropped. */
  async finishRebuild(partition: number, token: string, lastSeq: number): Promise<ApplyResult> {
    return this.client.ogApply(2, [this.key(partition, 'mark'), this.key(partition, 'lease')], ['finish', token, lastSeq]);
  }

  /** Deletes a partition's totals and buckets (not its mark or lease). */
  async deleteAggregates(partition: number): Promise<void> {
    for await (const keys of this.aggregateKeys(partition)) if (keys.length > 0) await this.client.del(...keys);
  }

  /** A partition's totals and bucket keys, a page at a time, from whichever node holds them. */
  async *aggregateKeys(partition: number): AsyncIterable<string[]> {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    for (const node of nodes) {
      for (const match of [this.key(partition, 'total'), this.key(partition, '*:*')]) {
        yield* node.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>;
      }
    }
  }

  async mark(partition: number): Promise<number | undefined> {
    const value = await this.client.get(this.key(partition, 'mark'));
    return value === null ? undefined : Number(value);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

function parseSums(reply: (string | number)[]): PartitionSums {
  const letters: PartitionSums['letters'] = new Map();
  for (let i = 1; i < reply.length; i += 2) {
    const field = String(reply[i]);
    const letter = field.slice(1);
    if (!isLetter(letter)) continue;
    let sums = letters.get(letter);
    if (!sums) {
      sums = { count: 0, followups: 0, lo: null, hi: null };
      letters.set(letter, sums);
    }
    const value = Number(reply[i + 1]);
    if (field[0] === 'c') sums.count = value;
    else if (field[0] === 'f') sums.followups = value;
    else if (field[0] === 'l') sums.lo = value;
    else if (field[0] === 'h') sums.hi = value;
  }
  return { markPresent: reply[0] === 1, letters };
}
