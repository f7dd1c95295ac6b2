// Closed buckets kept by a server process, for ranges and series, stay exact: writes into the past (the bulk loader, a
// host whose clock is behind, another process on the same partition) and a rebuild are seen by the
// next read of the process that kept them. On real servers.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariadb, type MariadbServer } from '../../test/servers/mariadb.ts';
import { startRedis, type RedisServer } from '../../test/servers/redis.ts';
import type { SeriesQuery } from '../series.ts';
import type { Micros } from '../time.ts';
import { generateEvents, recordEvent } from '../testing/event-stream.ts';
import { Oracle } from '../testing/oracle.ts';
import { systemClock } from '../time.ts';
import { MariadbRedisInterface } from './index.ts';

const MINUTE = 60_000_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let mariadb: MariadbServer;
let redis: RedisServer;
/** The reader that keeps closed buckets, and another process writing on the same partition. */
let reader: MariadbRedisInterface;
let writer: MariadbRedisInterface;
const oracle = new Oracle();
let now: Micros;

beforeAll(async () => {
  [mariadb, redis] = await Promise.all([startMariadb(), startRedis()]);
  reader = await MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url, partition: 0 });
  writer = await MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url, partition: 0 });
  now = systemClock();
  await load(reader, { seed: 1, initials: 4000, start: now - 3 * DAY, spanMicros: 3 * DAY - MINUTE });
}, 120_000);
afterAll(async () => {
  await reader?.close();
  await writer?.close();
  await Promise.all([mariadb?.stop(), redis?.stop()]);
});

async function load(target: MariadbRedisInterface, options: Parameters<typeof generateEvents>[0]): Promise<void> {
  const accepted = generateEvents(options).map(({ event }) => event);
  for (const event of accepted) oracle.record(event);
  await target.loadEvents(accepted);
}

/**
 * Ranges over buckets of every level, all closed but the ones ending now; the first one covers
 * every write into the past below, so a read right after one relies on kept sums it changed.
 */
const ranges = (): [Micros, Micros][] => [
  [now - DAY, now],
  [now - HOUR, now],
  [now - 5 * HOUR - 123_457, now - 4 * HOUR + 999],
  [now - 2 * DAY + 7, now - DAY - 11 * MINUTE],
  [now - 30 * DAY, now],
];

/**
 * Series over the same buckets, of all letters and of one, in zones whose hours are and are not
 * UTC's; the last one, read first when the series go first, covers the writes into the past as the
 * first range does.
 */
const series = (): SeriesQuery[] => [
  { lower: now - 30 * DAY, upper: now, interval: '1d', tz: 'Europe/Berlin', symbol: null },
  { lower: now - 30 * DAY, upper: now, interval: '1h', tz: 'UTC', symbol: 'e' },
  { lower: now - 2 * DAY + 7, upper: now - DAY - 11 * MINUTE, interval: '10m', tz: 'America/New_York', symbol: 'q' },
  { lower: now - DAY, upper: now, interval: '1h', tz: 'Asia/Kathmandu', symbol: null },
];

/** Every range and series as the oracle has them; the ranges first, or the series. */
async function expectReaderExact(first: 'ranges' | 'series' = 'ranges'): Promise<void> {
  const checks = [
    ...ranges().map(([lower, upper]) => async () => expect(await reader.rangeAggregates(lower, upper), `range ${lower} to ${upper}`).toEqual(oracle.rangeAggregates(lower, upper))),
    ...series().map((query) => async () => expect(await reader.series(query), `series ${JSON.stringify(query)}`).toEqual(oracle.series(query))),
  ];
  if (first === 'series') checks.reverse();
  for (const check of checks) await check();
}

describe('mariadb-redis, closed buckets kept by a process', () => {
  it('reads them again exact, from what it kept', async () => {
    await expectReaderExact();
    await expectReaderExact();
  });

  it('sees writes into closed buckets by the bulk loader of another process', async () => {
    await expectReaderExact();
    await load(writer, { seed: 2, initials: 300, start: now - 2 * DAY, spanMicros: 2 * DAY - HOUR });
    await expectReaderExact();
  });

  it('sees requests stamped in the past by a host whose clock is behind, on the same partition', async () => {
    await expectReaderExact();
    const late = generateEvents({ seed: 3, initials: 40, start: now - 5 * HOUR, spanMicros: 4 * HOUR });
    for (const { event } of late) {
      expect(await recordEvent(writer, event)).toEqual(oracle.record(event));
    }
    await expectReaderExact('series');
  });

  it('sees its own writes into the past', async () => {
    await expectReaderExact();
    await load(reader, { seed: 4, initials: 50, start: now - 25 * HOUR, spanMicros: 2 * HOUR });
    await expectReaderExact();
  });

  it('drops what it kept when the partition is rebuilt, even with no write into the past before', async () => {
    // A partition written in time order only: its closed buckets' version is the rebuild's alone.
    const second = 1_000_000;
    const start = Math.ceil(now / second) * second + 3 * second;
    const initial = (i: number, ts: Micros) => ({ type: 'initial' as const, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, symbol: 'q' as const, guess: false, ts });
    const record = async (target: MariadbRedisInterface, event: ReturnType<typeof initial>) => expect(await recordEvent(target, event)).toEqual(oracle.record(event));
    await redis.flushAll();
    await reader.recovery.mendAll();
    for (let i = 0; i < 6; i++) await record(writer, initial(i, start + i * second));
    const range = (): [Micros, Micros] => [start, start + 4 * second];
    const expectRange = async () => expect(await reader.rangeAggregates(...range())).toEqual(oracle.rangeAggregates(...range()));
    await expectRange();
    await expectRange();
    // Redis loses everything; an event into a closed second comes while it is gone, and reaches
    // Redis only through the rebuild.
    await redis.flushAll();
    await record(writer, initial(6, start + second + 1));
    await reader.recovery.mendAll();
    await expectRange();
  });

  it('drops what it kept when the partition is rebuilt from the raw events', async () => {
    await expectReaderExact();
    // Redis loses everything; the events of the past written meanwhile are rebuilt into it.
    await redis.flushAll();
    await load(writer, { seed: 5, initials: 100, start: now - 2 * DAY, spanMicros: DAY });
    await reader.recovery.mendAll();
    await expectReaderExact();
  });
});
