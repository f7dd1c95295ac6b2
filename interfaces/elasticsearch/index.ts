// The `elasticsearch` interface: every accepted event is a document of one index, the dashboards are
// aggregations over it. One initial per uuid because its document's id is the uuid, created only if
// absent (op_type create): a second create of the uuid is refused by the engine, on any process.
// A followup is a document of its own that carries its initial's symbol and time (read when it is
// recorded, by a real-time get), so every dashboard counts it with its initial in one pass.
//
// - Durable: the index syncs its translog on every request (index.translog.durability: request),
//   and a write is acknowledged only after the _bulk that holds it has answered.
// - Group commit (writer.ts): one _bulk in flight; the requests that arrive meanwhile go in the next.
// - Read-your-writes: near-real-time search would hide an acknowledged event for up to the refresh
//   interval (1 s). Every read first waits for a refresh that started after it came (Coalesced:
//   one in flight, the reads that come meanwhile share the next), so it sees every event
//   acknowledged before it, by any server process. A refresh per _bulk (refresh=true) did the
//   same at about three times the engine's CPU per batch (README: the figures).
// - Exact: times are an integer field of microseconds (`ts`, a long: a millisecond `date` would lose
//   them); counts are filter and terms aggregations over at most 26 terms, which are exact on any
//   number of shards; min and max come back as doubles, exact for every safe-integer microsecond.
// - Ties in time are exported in the order the engine indexed them (_seq_no, one shard).

import { Client, errors } from '@elastic/elasticsearch';
import {
  BackendUnavailableError, CommitOutcomeUnknownError, emptyAggregate, LETTERS,
} from '../contract.ts';
import type {
  DataInterface, ExportRange, FollowupEvent, FollowupResult, InitialEvent, InitialResult, Letter, RawEvent,
  SymbolAggregate,
} from '../contract.ts';
import { checkedStarts, emptyPoints, type SeriesPoint, type SeriesQuery } from '../series.ts';
import type { Micros } from '../time.ts';
import { Coalesced } from '../coalesced.ts';
import { GroupCommit } from './writer.ts';

export interface ElasticsearchOptions {
  /** The node, e.g. http://127.0.0.1:9200 */
  url: string;
  /** The index of the events (default `events`); created with its mapping on first open. */
  index?: string;
  /** No request waits on the engine longer (ms); then a 503. */
  deadlineMs: number;
  /** Shards of a new index (default 1: export's ties are in indexing order within a shard). */
  shards?: number;
}

/** A stored document: an initial (its id is its uuid) or a followup (with its initial's symbol and time). */
type EventDoc = {
  type: 'initial' | 'followup';
  uuid: string;
  symbol: Letter;
  ts: Micros;
  /** Initials: the guess answered. */
  guess?: boolean;
  /** Followups: their initial's ts (the range dashboards and series count a followup there). */
  its?: Micros;
};

const MAPPING = {
  dynamic: 'strict',
  properties: {
    type: { type: 'keyword' },
    uuid: { type: 'keyword' },
    symbol: { type: 'keyword' },
    guess: { type: 'boolean', index: false },
    ts: { type: 'long' },
    its: { type: 'long' },
  },
} as const;

const EXPORT_PAGE = 2000;
const LOAD_CHUNK = 5000;
const BACKEND = 'Elasticsearch';

type Outcome = InitialResult | FollowupResult;

interface BulkItem {
  status: number;
  error?: { type: string; reason?: string };
}

interface InitialSource { symbol: Letter; guess: boolean; ts: Micros; type: string }

export class ElasticsearchInterface implements DataInterface {
  readonly name = 'elasticsearch';
  /** The index of the events. */
  readonly index: string;
  private readonly client: Client;
  private readonly writer: GroupCommit<RawEvent, Outcome>;
  private readonly refresher: Coalesced<unknown>;

  private constructor(client: Client, index: string, deadlineMs: number) {
    this.client = client;
    this.index = index;
    this.refresher = new Coalesced(() => call(() => client.indices.refresh({ index })));
    this.writer = new GroupCommit((events) => this.writeBatch(events), {
      maxBatch: 2000,
      maxQueue: 20_000,
      maxWaitMs: deadlineMs,
      pauseAfterFailureMs: 1000,
      backend: BACKEND,
    });
  }

  /** Connects and creates the index with its mapping if it is missing. */
  static async open(options: ElasticsearchOptions): Promise<ElasticsearchInterface> {
    const client = new Client({ node: options.url, requestTimeout: options.deadlineMs, maxRetries: 0 });
    const index = options.index ?? 'events';
    try {
      await call(() => client.indices.create({
        index,
        body: {
          settings: {
            number_of_shards: options.shards ?? 1,
            number_of_replicas: 0,
            'index.translog.durability': 'request',
          },
          mappings: MAPPING,
        },
      }, { ignore: [400] }).then(({ body }) => {
        const error = (body as { error?: { type?: string } }).error;
        if (error && error.type !== 'resource_already_exists_exception') throw new Error(`${BACKEND} refused the index ${index}: ${JSON.stringify(error)}`);
      }));
      await call(() => client.cluster.health({ index, wait_for_status: 'yellow', timeout: `${options.deadlineMs}ms` }));
    } catch (error) {
      await client.close();
      throw error;
    }
    return new ElasticsearchInterface(client, index, options.deadlineMs);
  }

  recordInitial(event: Omit<InitialEvent, 'type'>): Promise<InitialResult> {
    return this.writer.submit({ type: 'initial', ...event }) as Promise<InitialResult>;
  }

  recordFollowup(event: Omit<FollowupEvent, 'type'>): Promise<FollowupResult> {
    return this.writer.submit({ type: 'followup', ...event }) as Promise<FollowupResult>;
  }

  async symbolAggregate(symbol: Letter): Promise<SymbolAggregate> {
    return (await this.aggregates([{ term: { symbol } }], [{ term: { symbol } }]))[LETTERS.indexOf(symbol)]!;
  }

  symbolAggregates(): Promise<SymbolAggregate[]> {
    return this.aggregates([], []);
  }

  rangeAggregates(lower: Micros, upper: Micros): Promise<SymbolAggregate[]> {
    return this.aggregates([{ range: { ts: { gte: lower, lt: upper } } }], [{ range: { its: { gte: lower, lt: upper } } }]);
  }

  async series(query: SeriesQuery): Promise<SeriesPoint[]> {
    const starts = checkedStarts(query);
    const points = emptyPoints(starts);
    const ranges = starts.map((from, i) => ({ from, to: starts[i + 1] ?? query.upper }));
    const symbol = query.symbol === null ? [] : [{ term: { symbol: query.symbol } }];
    const [initials, followups] = matching(
      [...symbol, { range: { ts: { gte: query.lower, lt: query.upper } } }],
      [...symbol, { range: { its: { gte: query.lower, lt: query.upper } } }],
    );
    const body = await this.search({
      size: 0,
      track_total_hits: false,
      query: { bool: { should: [initials, followups], minimum_should_match: 1 } },
      aggs: {
        initials: { filter: initials, aggs: { buckets: { range: { field: 'ts', ranges } } } },
        followups: { filter: followups, aggs: { buckets: { range: { field: 'its', ranges } } } },
      },
    });
    const aggs = body.aggregations as Record<'initials' | 'followups', { buckets: { buckets: { doc_count: number }[] } }>;
    aggs.initials.buckets.buckets.forEach((bucket, i) => (points[i]!.count = bucket.doc_count));
    aggs.followups.buckets.buckets.forEach((bucket, i) => (points[i]!.followups = bucket.doc_count));
    return points;
  }

  /** Pages of the index in (ts, _seq_no) order, each after the last one's sort values; refreshed before the first. */
  async *exportEvents(range: ExportRange = {}): AsyncIterable<RawEvent> {
    const ts = { ...(range.from === undefined ? {} : { gte: range.from }), ...(range.to === undefined ? {} : { lt: range.to }) };
    let after: unknown[] | undefined;
    for (;;) {
      const body = await this.search({
        size: EXPORT_PAGE,
        track_total_hits: false,
        query: { range: { ts } },
        sort: [{ ts: 'asc' }, { _seq_no: 'asc' }],
        ...(after === undefined ? {} : { search_after: after }),
      }, after === undefined);
      const hits = (body.hits as { hits: { _source: EventDoc; sort: unknown[] }[] }).hits;
      for (const { _source: doc } of hits) {
        yield doc.type === 'initial'
          ? { type: 'initial', uuid: doc.uuid, symbol: doc.symbol, guess: doc.guess === true, ts: doc.ts }
          : { type: 'followup', uuid: doc.uuid, ts: doc.ts };
      }
      if (hits.length < EXPORT_PAGE) return;
      after = hits[hits.length - 1]!.sort;
    }
  }

  /**
   * The bulk path: the documents the record calls would write, in _bulk requests of LOAD_CHUNK
   * events. A followup's initial is found in the load itself, or else in
   * the index.
   */
  async loadEvents(events: RawEvent[]): Promise<void> {
    const initials = new Map<string, { symbol: Letter; ts: Micros }>();
    for (let at = 0; at < events.length; at += LOAD_CHUNK) {
      const chunk = events.slice(at, at + LOAD_CHUNK);
      const missing = chunk.filter((event) => event.type === 'followup' && !initials.has(event.uuid)).map((event) => event.uuid);
      for (const [uuid, found] of await this.findInitials(missing)) initials.set(uuid, found);
      const operations: Record<string, unknown>[] = [];
      for (const event of chunk) {
        if (event.type === 'initial') {
          initials.set(event.uuid, event);
          operations.push({ create: { _id: event.uuid } }, this.initialDoc(event));
        } else {
          const initial = initials.get(event.uuid);
          if (initial) operations.push({ index: {} }, followupDoc(event, initial));
        }
      }
      const failed = (await this.bulk(operations)).find((item) => item.status >= 300);
      if (failed) throw itemError(failed);
    }
  }

  async ping(): Promise<void> {
    await call(() => this.client.count({ index: this.index }));
  }

  async close(): Promise<void> {
    await this.writer.drain();
    await this.client.close();
  }

  /**
   * One batch of requests: the initials of its followups by a real-time get, then one _bulk of the
   * initials (create: refused if the uuid exists) and of the followups whose initial exists, its
   * translog synced before it answers; then the first initial of each refused uuid, for the answer.
   */
  private async writeBatch(events: RawEvent[]): Promise<(Outcome | Error)[]> {
    const initials = await this.findInitials(events.filter((event) => event.type === 'followup').map((event) => event.uuid));
    const operations: Record<string, unknown>[] = [];
    const sent: number[] = [];
    const outcomes: (Outcome | Error)[] = events.map((event, i) => {
      if (event.type === 'initial') {
        operations.push({ create: { _id: event.uuid } }, this.initialDoc(event));
        sent.push(i);
        return { outcome: 'recorded' };
      }
      const initial = initials.get(event.uuid);
      if (!initial) return { outcome: 'unknown-uuid' };
      operations.push({ index: {} }, followupDoc(event, initial));
      sent.push(i);
      return { outcome: 'recorded' };
    });
    if (operations.length === 0) return outcomes;
    const items = await this.bulk(operations);
    const refused: number[] = [];
    items.forEach((item, k) => {
      const i = sent[k]!;
      if (item.status === 409 && events[i]!.type === 'initial') refused.push(i);
      else if (item.status >= 300) outcomes[i] = itemError(item);
    });
    if (refused.length > 0) {
      const firsts = await this.findInitials(refused.map((i) => events[i]!.uuid));
      for (const i of refused) {
        const event = events[i] as InitialEvent;
        const first = firsts.get(event.uuid);
        outcomes[i] = first === undefined
          ? new Error(`${BACKEND} refused the initial of ${event.uuid} as existing, and has no initial of it`)
          : first.symbol === event.symbol ? { outcome: 'repeat', guess: first.guess } : { outcome: 'conflict', symbol: first.symbol };
      }
    }
    return outcomes;
  }

  private initialDoc(event: Omit<InitialEvent, 'type'>): EventDoc {
    return { type: 'initial', uuid: event.uuid, symbol: event.symbol, guess: event.guess, ts: event.ts };
  }

  /** A _bulk of `operations` on the index (answered once its translog is synced): its items, in order. */
  private async bulk(operations: Record<string, unknown>[]): Promise<BulkItem[]> {
    const { body } = await this.client.bulk({ index: this.index, body: operations })
      .catch((error: unknown) => {
        throw sentButUnanswered(error)
          ? new CommitOutcomeUnknownError(`${BACKEND} did not answer a _bulk it may have applied: ${(error as Error).message}`, { cause: error })
          : asUnavailable(error);
      });
    return (body as { items: Record<string, BulkItem>[] }).items.map((item) => Object.values(item)[0]!);
  }

  /** The initials of these uuids that exist, by a real-time multi-get (it sees what is not yet refreshed). */
  private async findInitials(uuids: string[]): Promise<Map<string, InitialSource>> {
    const found = new Map<string, InitialSource>();
    if (uuids.length === 0) return found;
    const { body } = await call(() => this.client.mget({ index: this.index, realtime: true, body: { ids: [...new Set(uuids)] } }));
    for (const doc of (body as { docs: { _id: string; found?: boolean; _source?: InitialSource }[] }).docs) {
      if (doc.found && doc._source?.type === 'initial') found.set(doc._id, doc._source);
    }
    return found;
  }

  /** A search; `fresh`: after a refresh that started after this call (read-your-writes). */
  private async search(body: Record<string, unknown>, fresh = true): Promise<Record<string, unknown>> {
    if (fresh) await this.refresher.get();
    const response = await call(() => this.client.search({ index: this.index, body }));
    const answer = response.body as Record<string, unknown> & { _shards?: { failed: number } };
    if ((answer._shards?.failed ?? 0) > 0) throw new BackendUnavailableError(`${BACKEND} answered a search with failed shards`);
    return answer;
  }

  /**
   * The 26 aggregates, `a` to `z`, of the initials matching `initialFilters` and the followups
   * matching `followupFilters`, in one search.
   */
  private async aggregates(initialFilters: unknown[], followupFilters: unknown[]): Promise<SymbolAggregate[]> {
    const [initials, followups] = matching(initialFilters, followupFilters);
    const body = await this.search({
      size: 0,
      track_total_hits: false,
      // The query finds the documents (by the index); the aggregations only sort them out.
      query: { bool: { should: [initials, followups], minimum_should_match: 1 } },
      aggs: {
        initials: {
          filter: initials,
          aggs: {
            symbols: {
              terms: { field: 'symbol', size: LETTERS.length },
              aggs: { earliest: { min: { field: 'ts' } }, latest: { max: { field: 'ts' } } },
            },
          },
        },
        followups: {
          filter: followups,
          aggs: { symbols: { terms: { field: 'symbol', size: LETTERS.length } } },
        },
      },
    });
    type Bucket = { key: Letter; doc_count: number; earliest?: { value: number }; latest?: { value: number } };
    const aggs = body.aggregations as Record<'initials' | 'followups', { symbols: { buckets: Bucket[] } }>;
    const result = LETTERS.map((letter) => emptyAggregate(letter));
    for (const bucket of aggs.initials.symbols.buckets) {
      const aggregate = result[LETTERS.indexOf(bucket.key)]!;
      aggregate.count = bucket.doc_count;
      aggregate.earliest = bucket.earliest!.value;
      aggregate.latest = bucket.latest!.value;
    }
    for (const bucket of aggs.followups.symbols.buckets) result[LETTERS.indexOf(bucket.key)]!.followups = bucket.doc_count;
    return result;
  }
}

/**
 * The initials matching `initialFilters` and the followups matching `followupFilters`, as two
 * queries. A search asks for either as its query, so that a filter aggregation sees only the
 * documents found: without a query it tests every document of the index (a 1-hour range read
 * 16 ms of the engine's CPU at 1M events).
 */
function matching(initialFilters: unknown[], followupFilters: unknown[]): [unknown, unknown] {
  return [
    { bool: { filter: [{ term: { type: 'initial' } }, ...initialFilters] } },
    { bool: { filter: [{ term: { type: 'followup' } }, ...followupFilters] } },
  ];
}

function followupDoc(event: Omit<FollowupEvent, 'type'>, initial: { symbol: Letter; ts: Micros }): EventDoc {
  return { type: 'followup', uuid: event.uuid, symbol: initial.symbol, ts: event.ts, its: initial.ts };
}

/** Runs a call to the engine; its failures to answer become a 503. */
async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asUnavailable(error);
  }
}

/**
 * The engine out of reach, overloaded or refusing writes (a read-only or disk watermark block) is a
 * 503: nothing was done, a retry may succeed. Any other refusal is a fault of ours, kept as it is.
 */
function asUnavailable(error: unknown): unknown {
  if (error instanceof errors.ConnectionError || error instanceof errors.TimeoutError || error instanceof errors.NoLivingConnectionsError) {
    return new BackendUnavailableError(`${BACKEND} is out of reach: ${error.message}`, { cause: error });
  }
  if (error instanceof errors.ResponseError && (error.statusCode === 429 || (error.statusCode ?? 0) >= 500 || isBlock(error.body))) {
    return new BackendUnavailableError(`${BACKEND} refused: ${error.message}`, { cause: error });
  }
  return error;
}

/** A bulk item the engine refused: a 503 when it may succeed later (blocked, overloaded), else an error. */
function itemError(item: BulkItem): Error {
  const reason = `${item.error?.type ?? item.status}: ${item.error?.reason ?? ''}`;
  if (item.status === 429 || item.status >= 500 || item.error?.type === 'cluster_block_exception') {
    return new BackendUnavailableError(`${BACKEND} refused the write (${reason})`);
  }
  return new Error(`${BACKEND} refused a write: ${reason}`);
}

function isBlock(body: unknown): boolean {
  return JSON.stringify(body ?? '').includes('cluster_block_exception');
}

/**
 * True when the request may have reached the engine and its answer was lost (a timeout, a reset
 * connection). A refused connection never reached it: nothing was applied.
 */
function sentButUnanswered(error: unknown): boolean {
  if (error instanceof errors.TimeoutError) return true;
  if (!(error instanceof errors.ConnectionError)) return false;
  return !/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND/.test(error.message);
}
