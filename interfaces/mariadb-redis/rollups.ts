// The aggregates in Redis, and everything about them: the client (a single server or a Cluster,
// found by asking the server), the key layout, the hash fields and the scripts (scripts/*.lua, one
// job each). Nothing else in the interface knows a key or a field.
//
// Writes are spread over partitions, one per writing process (claimed here, under a lease that the
// writer renews): each partition's keys share a hash tag, so one script touches one Cluster slot,
// and a hot letter does not pin every write to one node. Each partition's mark names the last committed batch its rollups hold ("seq:token");
// reads compare it with MariaDB's batches and never trust a view they cannot place there.

import { readFileSync } from 'node:fs';
import { Cluster, Redis, type Result } from 'ioredis';
import { BackendUnavailableError, isLetter, type Letter } from '../contract.ts';
import type { Micros } from '../time.ts';
import { beforeDeadline, deadlineIn } from './deadline.ts';
import { bucketOf, LEVELS } from './buckets.ts';
import type { DeltaSet, HashDelta } from './deltas.ts';
import type { BatchRef } from './events-db.ts';
import { redactUrl, tlsOptions, type TlsFiles } from './tls.ts';

/** Each level's bucket size in seconds, by tag. */
const LEVEL_SECONDS = new Map(LEVELS.map((level) => [level.tag, level.micros / 1_000_000]));

export type ApplyResult = 'applied' | 'duplicate' | 'gap' | 'lost';

export interface LetterSums {
  count: number;
  followups: number;
  lo: Micros | null;
  hi: Micros | null;
}

/** Initials and their followups of one series point (or a part of one). */
export interface SeriesCounts {
  count: number;
  followups: number;
}

/** What to read of one partition: hashes to sum, and hashes to get whole (closed buckets the reader keeps). */
export interface ViewRequest {
  part: number;
  sum: string[];
  each: string[];
}

/** What to read of one partition for a series: hashes to sum into their points, and hashes to get whole. */
export interface SeriesRequest {
  part: number;
  sum: string[];
  /** The point each hash to sum counts into. */
  points: number[];
  each: string[];
}

/**
 * A partition's hashes as one read saw them, with the mark they belong to (undefined: the rollups
 * were lost), the version of each level's closed buckets, and the hashes asked whole, in order.
 */
interface PlacedHashes {
  mark: BatchRef | undefined;
  levels: Levels;
  each: Map<Letter, LetterSums>[];
}

export interface PartitionView extends PlacedHashes {
  /** The sums of the hashes asked to be summed. */
  letters: Map<Letter, LetterSums>;
}

export interface SeriesView extends PlacedHashes {
  /** The counts of the points that hashes were summed into. */
  points: Map<number, SeriesCounts>;
}

/** Per level tag: the highest bucket index written, and the version of the buckets closed below it. */
export type Levels = Map<string, { highest: number; version: string }>;

export interface RollupsOptions {
  /** Prefix of every key (default 'og:'): lets two deployments share a Redis. */
  prefix?: string;
  /** No command waits longer (ms); then it fails (a 503). */
  deadlineMs: number;
  /** CA and client certificate for a `rediss://` URL (default: the system's CAs, no client certificate). */
  tls?: TlsFiles;
}

/**
 * read.lua's and read-series.lua's answer, decoded: the mark, the levels hash, the sums (field, value
 * pairs; or point, count, followups triples), then each hash read whole (field, value pairs); {} when empty.
 */
type ReadReply = [string | false, FieldValues, FieldValues, ...FieldValues[]];
type FieldValues = string[] | Record<string, never>;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    // Arrays are flattened into the command by ioredis: a large batch has too many arguments to spread.
    ogApplyBatch(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<ApplyResult, Context>;
    ogBeginRebuild(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<number, Context>;
    ogRebuildChunk(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<'applied' | 'stale', Context>;
    ogFinishRebuild(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<'applied' | 'stale', Context>;
    ogReleaseLease(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<number, Context>;
    ogRenewLease(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<number, Context>;
    ogDeleteAggregates(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<'deleted' | 'stale', Context>;
    ogRead(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<string, Context>;
    ogReadSeries(numberOfKeys: number, keys: string[], args: (string | number)[]): Result<string, Context>;
  }
}

const SCRIPTS = {
  ogApplyBatch: 'apply-batch',
  ogBeginRebuild: 'begin-rebuild',
  ogRebuildChunk: 'rebuild-chunk',
  ogFinishRebuild: 'finish-rebuild',
  ogReleaseLease: 'release-lease',
  ogRenewLease: 'renew-lease',
  ogDeleteAggregates: 'delete-aggregates',
  ogRead: 'read',
  ogReadSeries: 'read-series',
} as const;

/** A script's text, its `--- @include "name"` lines replaced by scripts/name.lua. */
function script(name: string): string {
  const text = readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
  return text.replace(/^--- @include "([\w/-]+)"$/gm, (_, included: string) => script(included));
}

export const formatMark = (mark: BatchRef): string => `${mark.seq}:${mark.token}`;

/** A mark as written by apply-batch or finish-rebuild; anything else (an older format) is no mark this database knows. */
export function parseMark(text: string): BatchRef {
  const match = /^(\d+):(\d+)$/.exec(text);
  return match ? { seq: Number(match[1]), token: Number(match[2]) } : { seq: -1, token: -1 };
}

/** Rebuild leases live this long unless extended by each chunk. */
const LEASE_MS = 60_000;
/** A writer's claim on its partition lives this long unless renewed (see WriterClaim). */
export const WRITER_CLAIM_MS = 30_000;

export class Rollups {
  readonly client: Redis | Cluster;
  private readonly prefix: string;
  private readonly deadlineMs: number;

  private constructor(client: Redis | Cluster, prefix: string, deadlineMs: number) {
    this.client = client;
    this.prefix = prefix;
    this.deadlineMs = deadlineMs;
    // Connection errors reach the callers through the commands that fail (a 503); the client
    // reconnects by itself. Without a listener ioredis would print each one.
    client.on('error', () => undefined);
    for (const [command, file] of Object.entries(SCRIPTS)) {
      client.defineCommand(command, { lua: script(file), readOnly: command === 'ogRead' || command === 'ogReadSeries' });
    }
  }

  /**
   * Connects to a Redis server, or to the Cluster it belongs to, and refuses one that may evict
   * keys. Commands fail at once while disconnected (no queue), and after `deadlineMs` at most.
   */
  static async connect(url: string, options: RollupsOptions): Promise<Rollups> {
    // Error messages name the server, never its password.
    const where = redactUrl(url);
    const secure = /^rediss:/i.test(url);
    if (options.tls && !secure) throw new Error(`Redis TLS files were given for ${where}: use a rediss:// URL, or leave them out`);
    // Auto-pipelining sends the commands of one tick (many requests' reads) in one write.
    const clientOptions = {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      connectTimeout: options.deadlineMs,
      commandTimeout: options.deadlineMs,
      // Always verified: against options.tls.ca, or the system's CAs.
      ...(secure ? { tls: tlsOptions(options.tls ?? {}) } : {}),
    };
    const probe = new Redis(url, { ...clientOptions, lazyConnect: true, retryStrategy: () => null });
    // Why the connection failed (a certificate that does not verify, a refused connection): ioredis
    // tells it as an 'error' event, and the promise only that the connection closed.
    let failure: Error | undefined;
    probe.on('error', (error: Error) => (failure ??= error));
    let info: string;
    try {
      await probe.connect();
      info = await probe.info();
    } catch (error) {
      probe.disconnect();
      throw new BackendUnavailableError(`Redis at ${where} does not answer: ${(failure ?? (error as Error)).message}; is it running?`, { cause: failure ?? error });
    }
    probe.disconnect();
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy !== 'noeviction') {
      throw new Error(
        `Redis at ${where} has maxmemory-policy ${policy ?? 'unknown'}: it may evict the aggregates, and evicted counts would be silently wrong. ` +
          'Set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction).',
      );
    }
    const prefix = options.prefix ?? 'og:';
    if (!/^cluster_enabled:1/m.test(info)) {
      const client = new Redis(url, { ...clientOptions, lazyConnect: true });
      await client.connect();
      return new Rollups(client, prefix, options.deadlineMs);
    }
    // Every node is reached as the seed is: same user, password and TLS (each node's certificate
    // checked for the address the cluster gives for it).
    const { host, port, password, username } = probe.options;
    const cluster = new Cluster([{ host, port }], { enableOfflineQueue: false, redisOptions: { ...clientOptions, password, username } });
    try {
      await new Promise<void>((resolve, reject) => {
        cluster.once('ready', resolve);
        cluster.once('error', reject);
      });
    } catch (error) {
      cluster.disconnect();
      throw new BackendUnavailableError(`the Redis Cluster of ${where} is not ready: ${(error as Error).message}`, { cause: error });
    }
    return new Rollups(cluster, prefix, options.deadlineMs);
  }

  /**
   * Moves a partition's rollups from the batch `expected` to `batch` by the deltas of the batches
   * in between (one, or several when catching up).
   */
  apply(part: number, expected: BatchRef, batch: BatchRef, deltas: DeltaSet): Promise<ApplyResult> {
    const [keys, form, args] = this.applyArgs(part, deltas);
    return this.client.ogApplyBatch(keys.length + 2, [this.key(part, 'mark'), this.key(part, 'levels'), ...keys], [formatMark(expected), formatMark(batch), form, ...args]);
  }

  /**
   * Takes the partition's rebuild lease and drops its mark, if the mark is still `seen`:
   * 'taken', 'held' (another process rebuilds it) or 'moved' (the mark is another by now).
   */
  async beginRebuild(part: number, leaseToken: string, seen: BatchRef | undefined): Promise<'taken' | 'held' | 'moved'> {
    const result = await this.client.ogBeginRebuild(2, [this.key(part, 'mark'), this.key(part, 'lease')], [leaseToken, LEASE_MS, seen ? formatMark(seen) : '']);
    return result === 1 ? 'taken' : result === 0 ? 'held' : 'moved';
  }

  /** Adds a chunk of a rebuild's sums; false when the lease is no longer ours. */
  async rebuildChunk(part: number, leaseToken: string, deltas: DeltaSet): Promise<boolean> {
    const [keys, args] = this.deltaArgs(part, deltas);
    return (await this.client.ogRebuildChunk(keys.length + 2, [this.key(part, 'lease'), this.key(part, 'levels'), ...keys], [leaseToken, LEASE_MS, ...args])) === 'applied';
  }

  /** Ends a rebuild at the batch `head`; false when the lease is no longer ours. */
  async finishRebuild(part: number, leaseToken: string, head: BatchRef): Promise<boolean> {
    return (await this.client.ogFinishRebuild(3, [this.key(part, 'mark'), this.key(part, 'lease'), this.key(part, 'levels')], [leaseToken, formatMark(head)])) === 'applied';
  }

  async releaseLease(part: number, leaseToken: string): Promise<void> {
    await this.client.ogReleaseLease(1, [this.key(part, 'lease')], [leaseToken]);
  }

  /** Claims the first of `partitions` that no writer holds, for `holder`; undefined when all are held. */
  async claimWriter(partitions: number, holder: string): Promise<number | undefined> {
    for (let part = 0; part < partitions; part++) {
      if ((await this.client.set(this.key(part, 'writer'), holder, 'PX', WRITER_CLAIM_MS, 'NX')) === 'OK') return part;
    }
    return undefined;
  }

  /** Extends `holder`'s claim, or takes it again if it lapsed and no other writer took it. */
  async renewWriter(part: number, holder: string): Promise<void> {
    await this.client.ogRenewLease(1, [this.key(part, 'writer')], [holder, WRITER_CLAIM_MS]);
  }

  async releaseWriter(part: number, holder: string): Promise<void> {
    await this.client.ogReleaseLease(1, [this.key(part, 'writer')], [holder]);
  }

  /**
   * Reads hashes ('total', 's:123', ...) of partitions, each partition's atomically with its mark:
   * some summed, some whole; a 503 past the deadline (a request's read).
   */
  read(requests: ViewRequest[]): Promise<PartitionView[]> {
    return this.readPlaced(requests, async ({ part, sum, each }) => {
      const keys = this.readKeys(part, [...sum, ...each]);
      const [mark, levels, sums, ...hashes] = JSON.parse(await this.client.ogRead(keys.length, keys, [sum.length])) as ReadReply;
      return { ...placedHashes(mark, levels, hashes), letters: parseSums(list(sums)) };
    });
  }

  /**
   * Reads a series' hashes of partitions, of one letter or all, each partition's atomically with its
   * mark: some summed into their points, some whole; a 503 past the deadline.
   */
  readSeries(requests: SeriesRequest[], letter: Letter | null): Promise<SeriesView[]> {
    return this.readPlaced(requests, async ({ part, sum, points, each }) => {
      const keys = this.readKeys(part, [...sum, ...each]);
      const [mark, levels, counts, ...hashes] = JSON.parse(await this.client.ogReadSeries(keys.length, keys, [letter ?? '', sum.length, ...points])) as ReadReply;
      const numbers = list(counts).map(Number);
      const summed = new Map<number, SeriesCounts>();
      for (let i = 0; i < numbers.length; i += 3) summed.set(numbers[i] as number, { count: numbers[i + 1] as number, followups: numbers[i + 2] as number });
      return { ...placedHashes(mark, levels, hashes), points: summed };
    });
  }

  private readPlaced<R, V>(requests: R[], readOne: (request: R) => Promise<V>): Promise<V[]> {
    return beforeDeadline(Promise.all(requests.map(readOne)), deadlineIn(this.deadlineMs), 'Redis did not answer in time');
  }

  /** A read's keys: the partition's mark and levels, then its hashes. */
  private readKeys(part: number, hashes: string[]): string[] {
    return [this.key(part, 'mark'), this.key(part, 'levels'), ...hashes.map((hash) => this.key(part, hash))];
  }

  /** The marks of `parts`, by partition (undefined: none). */
  async marks(parts: readonly number[]): Promise<Map<number, BatchRef | undefined>> {
    return new Map(await Promise.all(parts.map(async (part) => [part, await this.mark(part)] as const)));
  }

  /** A partition's mark (undefined: none). */
  async mark(part: number): Promise<BatchRef | undefined> {
    const value = await this.client.get(this.key(part, 'mark'));
    return value === null ? undefined : parseMark(value);
  }

  /** One hash of a partition as it is stored, field by field (for verify). */
  async storedHashes(part: number, hashes: string[]): Promise<Record<string, string>[]> {
    const pipeline = this.client.pipeline();
    for (const hash of hashes) pipeline.hgetall(this.key(part, hash));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map((reply) => (reply[1] ?? {}) as Record<string, string>);
  }

  /**
   * Deletes a partition's totals, buckets and levels (not its mark or lease), a page at a time while
   * the rebuild lease is ours; false once it is not (a rebuilder paused past its lease must not
   * delete what the next one rebuilt).
   */
  async deleteAggregates(part: number, leaseToken: string): Promise<boolean> {
    const lease = this.key(part, 'lease');
    const pages = (async function* (rollups: Rollups) {
      yield [rollups.key(part, 'levels')];
      yield* rollups.aggregateKeys(part);
    })(this);
    for await (const keys of pages) {
      if (keys.length > 0 && (await this.client.ogDeleteAggregates(keys.length + 1, [lease, ...keys], [leaseToken])) === 'stale') return false;
    }
    return true;
  }

  /** A partition's totals and bucket hashes that exist, a page at a time, from whichever node holds them. */
  async *aggregateHashes(part: number): AsyncIterable<string[]> {
    const start = this.key(part, '').length;
    for await (const keys of this.aggregateKeys(part)) yield keys.map((key) => key.slice(start));
  }

  /** A hash's time to live in seconds (-1: none). */
  ttl(part: number, hash: string): Promise<number> {
    return this.client.ttl(this.key(part, hash));
  }

  async ping(): Promise<void> {
    await beforeDeadline(this.client.ping(), deadlineIn(this.deadlineMs), 'Redis did not answer in time');
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private key(part: number, suffix: string): string {
    return `${this.prefix}{p${part}}:${suffix}`;
  }

  private async *aggregateKeys(part: number): AsyncIterable<string[]> {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    for (const node of nodes) {
      for (const match of [this.key(part, 'total'), this.key(part, '*:*')]) {
        yield* node.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>;
      }
    }
  }

  /**
   * The keys, the form and the arguments of includes/merge-deltas.lua for `deltas`: per second
   * when that is fewer arguments (a batch of live events: a few seconds, a dozen hashes each
   * holding the same letters), else per hash (events spread over time: the loader, a catch-up).
   */
  private applyArgs(part: number, deltas: DeltaSet): [string[], 'seconds' | 'hashes', (string | number)[]] {
    let perHash = 0;
    for (const { letters } of deltas.hashes.values()) perHash += 4 + 5 * letters.size;
    if (!deltas.seconds || 4 * deltas.hashes.size + 6 * deltas.seconds.size >= perHash) {
      const [keys, args] = this.deltaArgs(part, deltas);
      return [keys, 'hashes', args];
    }
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const { hash, expireAtSeconds } of deltas.hashes.values()) {
      const bucket = bucketOf(hash);
      keys.push(this.key(part, hash));
      args.push(expireAtSeconds, bucket?.tag ?? '', bucket?.index ?? 0, bucket ? (LEVEL_SECONDS.get(bucket.tag) as number) : 0);
    }
    for (const { second, letter, delta: d } of deltas.seconds.values()) args.push(second, letter, d.count, d.followups, d.count ? d.lo : 0, d.count ? d.hi : 0);
    return [keys, 'seconds', args];
  }

  /** The keys and the arguments of includes/merge-deltas.lua for `deltas`, per hash. */
  private deltaArgs(part: number, deltas: DeltaSet): [string[], (string | number)[]] {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const { hash, expireAtSeconds, letters } of deltas.hashes.values()) {
      const bucket = bucketOf(hash);
      keys.push(this.key(part, hash));
      args.push(expireAtSeconds, bucket?.tag ?? '', bucket?.index ?? 0, letters.size);
      for (const [letter, d] of letters) args.push(letter, d.count, d.followups, d.count ? d.lo : 0, d.count ? d.hi : 0);
    }
    return [keys, args];
  }
}

/** The fields a hash holds for these deltas, as the scripts write them (for verify's comparison). */
export function storedFields(delta: HashDelta): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [letter, d] of delta.letters) {
    if (d.count > 0) Object.assign(fields, { [`c${letter}`]: `${d.count}`, [`l${letter}`]: `${d.lo}`, [`h${letter}`]: `${d.hi}` });
    if (d.followups > 0) fields[`f${letter}`] = `${d.followups}`;
  }
  return fields;
}

function placedHashes(mark: string | false, levels: FieldValues, hashes: FieldValues[]): PlacedHashes {
  return { mark: typeof mark === 'string' ? parseMark(mark) : undefined, levels: parseLevels(list(levels)), each: hashes.map((hash) => parseSums(list(hash))) };
}

/** cjson writes an empty list as {}. */
const list = (values: FieldValues | undefined): string[] => (Array.isArray(values) ? values : []);

/** The levels hash: 't'..tag the highest bucket, 'v'..tag the version of the closed ones, 'base' the last rebuild's. */
function parseLevels(flat: string[]): Levels {
  const fields = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) fields.set(flat[i] as string, flat[i + 1] as string);
  const base = fields.get('base') ?? '';
  const levels: Levels = new Map();
  for (const [field, value] of fields) {
    if (field[0] !== 't') continue;
    const tag = field.slice(1);
    levels.set(tag, { highest: Number(value), version: `${base}/${fields.get(`v${tag}`) ?? ''}` });
  }
  return levels;
}

function parseSums(reply: string[]): Map<Letter, LetterSums> {
  const letters = new Map<Letter, LetterSums>();
  for (let i = 0; i < reply.length; i += 2) {
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
  return letters;
}
