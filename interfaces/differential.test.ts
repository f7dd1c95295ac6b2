// One random stream of over 100k requests (duplicate initials, unknown followups, bursts in one
// microsecond) fed to the naive reference (sqlite) and to production (mariadb-redis): every answer,
// all 26 symbol dashboards and hundreds of ranges must agree exactly. The stream spans the last 40
// days, so the ranges (and series) cross every bucket level and the retention cut-overs of the fine ones.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariadb, type MariadbServer } from '../test/servers/mariadb.ts';
import { startRedis, type RedisServer } from '../test/servers/redis.ts';
import { LETTERS, type DataInterface, type SymbolAggregate } from './contract.ts';
import { openFresh } from './mariadb-redis/fresh.ts';
import type { SeriesQuery } from './series.ts';
import { SqliteInterface } from './sqlite.ts';
import { probeRanges } from './testing/contract-suite.ts';
import { generateEvents, Random, recordEvent, type StreamOptions, type StreamRequest } from './testing/event-stream.ts';
import { formatMicros, systemClock, type Micros } from './time.ts';

const DAY = 86_400_000_000;
/** Requests waiting on the production interface at once; their order is kept by its queue. */
const WINDOW = 5000;

let mariadb: MariadbServer;
let redis: RedisServer;
beforeAll(async () => {
  [mariadb, redis] = await Promise.all([startMariadb({ innodbBufferPoolSize: '256M' }), startRedis()]);
});
afterAll(async () => {
  await Promise.all([mariadb?.stop(), redis?.stop()]);
});

async function feed(store: DataInterface, requests: StreamRequest[]): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < requests.length; i += WINDOW) {
    const window = requests.slice(i, i + WINDOW).map(({ event }) => recordEvent(store, event));
    for (const answer of await Promise.all(window)) answers.push(JSON.stringify(answer));
  }
  return answers;
}

/** sqlite's answers to the ranges, computed by worker threads that each replay the stream. */
async function sqliteRangeAnswers(stream: StreamOptions, ranges: [Micros, Micros][]): Promise<SymbolAggregate[][]> {
  const threads = Math.max(2, availableParallelism());
  const shares = Array.from({ length: threads }, (_, t) => ranges.filter((_, i) => i % threads === t));
  const answers = await Promise.all(
    shares.map(
      (share) =>
        new Promise<SymbolAggregate[][]>((resolve, reject) => {
          // Node runs the worker's TypeScript itself (type stripping), outside vitest's transform.
          const worker = new Worker(new URL('./testing/sqlite-ranges.worker.ts', import.meta.url), { workerData: { stream, ranges: share } });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  return ranges.map((_, i) => answers[i % threads]?.[Math.floor(i / threads)] as SymbolAggregate[]);
}

describe('sqlite and mariadb-redis on one random stream', () => {
  it('agree on every answer, every letter, hundreds of ranges and series in several zones', async () => {
    const now = systemClock();
    const stream: StreamOptions = { seed: 20171, initials: 82_000, start: now - 40 * DAY, spanMicros: 40 * DAY, noiseShare: 0.05 };
    const requests = generateEvents(stream);
    expect(requests.length).toBeGreaterThanOrEqual(100_000);
    const reference = await SqliteInterface.open(':memory:');
    const production = await openFresh({ adminUrl: mariadb.rootUrl, redisUrl: redis.url });
    try {
      const [referenceAnswers, productionAnswers] = [await feed(reference, requests), await feed(production, requests)];
      expect(productionAnswers).toEqual(referenceAnswers);
      expect(referenceAnswers).toEqual(requests.map(({ expected }) => JSON.stringify(expected)));

      for (const letter of LETTERS) {
        expect(await production.symbolAggregate(letter), `symbol ${letter}`).toEqual(await reference.symbolAggregate(letter));
      }
      const random = new Random(7);
      const timestamps = requests.filter((_, i) => i % 50 === 0).map(({ event }) => event.ts);
      const ranges = probeRanges(random, timestamps, 200);
      // Ranges ending now: the dashboards' usual question, answered from the finest buckets.
      for (const span of [1_000_000, 3_600_000_000, DAY, 30 * DAY]) ranges.push([now - span, now]);
      const expected = await sqliteRangeAnswers(stream, ranges);
      for (const [i, [lower, upper]] of ranges.entries()) {
        const label = `range [${formatMicros(lower)}, ${formatMicros(upper)})`;
        expect(await production.rangeAggregates(lower, upper), label).toEqual(expected[i]);
      }
      // Series across the retention cut-overs (1 s buckets at 6 hours, 1 min at 35 days), in zones
      // whose hours and days fall off UTC's (:45, :30) and the range's own bounds off the grid.
      const HOUR = DAY / 24;
      const series: SeriesQuery[] = [
        { lower: now - 40 * DAY, upper: now, interval: '1d', tz: 'Europe/Berlin', symbol: null },
        { lower: now - 36 * DAY - 7, upper: now - 34 * DAY, interval: '1h', tz: 'Asia/Kathmandu', symbol: null },
        { lower: now - 7 * HOUR, upper: now - 5 * HOUR + 13, interval: '1m', tz: 'Asia/Kolkata', symbol: null },
        { lower: now - 3 * DAY, upper: now, interval: '10m', tz: 'Australia/Lord_Howe', symbol: 'e' },
        { lower: now - DAY, upper: now, interval: '1h', tz: 'UTC', symbol: 't' },
      ];
      for (const query of series) {
        expect(await production.series(query), `series ${JSON.stringify(query)}`).toEqual(await reference.series(query));
      }
    } finally {
      await Promise.all([reference.close(), production.close()]);
    }
  }, 600_000);
});
