// Work aborted in the middle leaves nothing broken, and verify only reads: on real servers.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariadb, type MariadbServer } from '../../test/servers/mariadb.ts';
import { startRedis, type RedisServer } from '../../test/servers/redis.ts';
import { generateEvents } from '../testing/event-stream.ts';
import { systemClock } from '../time.ts';
import { EventsDb } from './events-db.ts';
import { MariadbRedisInterface } from './index.ts';
import { DEFAULT_PARTITIONS } from './partitions.ts';
import { Rollups } from './rollups.ts';
import { verify } from './verify.ts';

const DAY = 86_400_000_000;

let mariadb: MariadbServer;
let redis: RedisServer;
let data: MariadbRedisInterface;
let redisClient: Redis;

beforeAll(async () => {
  [mariadb, redis] = await Promise.all([startMariadb(), startRedis()]);
  data = await MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url, partition: 0 });
  const now = systemClock();
  // Enough events that a rebuild writes several chunks (50k events each).
  await data.loadEvents(generateEvents({ seed: 9, initials: 120_000, start: now - 2 * DAY, spanMicros: 2 * DAY }).map(({ event }) => event));
  redisClient = new Redis(redis.url);
}, 120_000);
afterAll(async () => {
  redisClient?.disconnect();
  await Promise.all([mariadb?.stop(), redis?.stop()]);
});

/** Transactions MariaDB still holds open for the interface's user (a snapshot left behind would show here). */
async function openTransactions(): Promise<number> {
  const rows = await mariadb.query('SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX');
  return Number(rows[0]?.n);
}

/** Every pooled connection answers: more parallel reads and exports than any pool holds. */
async function expectPoolsUsable(): Promise<void> {
  const exports = Array.from({ length: 6 }, async () => {
    let n = 0;
    for await (const event of data.exportEvents({ from: systemClock() - DAY, to: systemClock() - DAY + 60_000_000 })) if (event) n++;
    return n;
  });
  const reads = Array.from({ length: 20 }, () => data.db.sumEdges([[systemClock() - DAY, systemClock() - DAY + 60_000_000]]));
  const counts = await Promise.all(exports);
  expect(new Set(counts).size).toBe(1);
  expect((await Promise.all(reads)).length).toBe(20);
}

async function expectExact(): Promise<void> {
  const report = await verify(data.db, data.rollups, data.now, DEFAULT_PARTITIONS);
  expect(report.differences).toEqual([]);
}

describe('mariadb-redis, work aborted half-way', () => {
  it('a rebuild that loses its lease mid-stream: snapshot rolled back, lease left to expire, pools usable, mended after', async () => {
    let stolen: Promise<unknown> | undefined;
    const rebuild = data.recovery.rebuild(0, await data.rollups.mark(0), () => {
      // Between two chunks of the snapshot's stream: another process takes the lease over.
      stolen ??= redisClient.set('og:{p0}:lease', 'another-rebuilder', 'PX', 60_000);
    });
    await expect(rebuild).rejects.toThrow(/taken over by another process/);
    expect(stolen).toBeDefined();

    expect(await redisClient.get('og:{p0}:lease')).toBe('another-rebuilder'); // not ours to drop
    expect(await redisClient.pttl('og:{p0}:lease')).toBeGreaterThan(0); // it expires
    expect(await redisClient.exists('og:{p0}:mark')).toBe(0); // left lost: reads answer 503 meanwhile
    await expect(data.symbolAggregate('e')).rejects.toThrow(/being rebuilt/);
    await expect.poll(openTransactions, { timeout: 5000 }).toBe(0);
    await expectPoolsUsable();

    await redisClient.del('og:{p0}:lease'); // as its expiry would
    await data.recovery.sweep();
    await expectExact();
  }, 60_000);

  it('a rebuilder paused past its lease deletes nothing of what the next one rebuilt', async () => {
    await data.recovery.mendAll();
    const partitionKeys = async () => (await redisClient.keys('og:{p0}:*')).filter((key) => key !== 'og:{p0}:lease').sort();
    const before = await partitionKeys();
    expect(before.length).toBeGreaterThan(10);
    // Its lease expired while it was stopped, and another process holds the partition's now.
    await redisClient.set('og:{p0}:lease', 'the-next-rebuilder', 'PX', 60_000);
    expect(await data.rollups.deleteAggregates(0, 'the-paused-rebuilder')).toBe(false);
    expect(await partitionKeys()).toEqual(before);
    await redisClient.del('og:{p0}:lease');
    await expectExact();
  }, 60_000);

  it('an export its reader leaves half-way: the query ends, pools usable', async () => {
    for (let i = 0; i < 8; i++) {
      let n = 0;
      for await (const event of data.exportEvents()) if (event && ++n === 100) break;
    }
    await expect
      .poll(async () => (await mariadb.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT * FROM (%'"))[0]?.n, { timeout: 5000 })
      .toBe(0);
    await expectPoolsUsable();
  }, 60_000);
});

describe('npm run verify only reads', () => {
  it('reports a lost partition and a wrong count, and changes neither', async () => {
    // No server process runs meanwhile (its sweep would mend what verify is to find).
    await data.close();
    const db = await EventsDb.open(mariadb.url, { deadlineMs: 5000 });
    const rollups = await Rollups.connect(redis.url, { deadlineMs: 5000 });
    try {
      const [bucket] = await redisClient.keys('og:{p0}:h:*');
      await redisClient.hincrby(bucket as string, 'ca', 1);
      await redisClient.del('og:{p0}:mark');
      const before = await redisClient.hgetall(bucket as string);

      const report = await verify(db, rollups, systemClock, DEFAULT_PARTITIONS);
      const text = report.differences.join('\n');
      expect(text).toMatch(/partition 0: Redis holds no mark \(its rollups are lost\), MariaDB's log ends at batch \d+:\d+: lost/);
      expect(text).toContain(`partition 0, ${(bucket as string).slice('og:{p0}:'.length)}, ca: raw events say`);
      expect(await redisClient.exists('og:{p0}:mark', 'og:{p0}:lease')).toBe(0);
      expect(await redisClient.hgetall(bucket as string)).toEqual(before);
    } finally {
      await rollups.close();
      await db.close();
    }
  }, 60_000);
});

describe('a Redis that may evict keys', () => {
  it('is refused at start, with what to set', async () => {
    const evicting = await startRedis({ extraArgs: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
    try {
      await expect(MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: evicting.url })).rejects.toThrow(
        /maxmemory-policy allkeys-lru: it may evict the aggregates.*Set maxmemory-policy noeviction/,
      );
    } finally {
      await evicting.stop();
    }
  });
});
