// `npm run verify`, `npm run rebuild` and `npm run migrate` as a user runs them: on real servers, through npm.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariadb, type MariadbServer } from '../../test/servers/mariadb.ts';
import { startRedis, type RedisServer } from '../../test/servers/redis.ts';
import { generateEvents } from '../testing/event-stream.ts';
import { systemClock } from '../time.ts';
import { MariadbRedisInterface } from './index.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DAY = 86_400_000_000;

let mariadb: MariadbServer;
let redis: RedisServer;
beforeAll(async () => {
  [mariadb, redis] = await Promise.all([startMariadb(), startRedis()]);
  const data = await MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url });
  const now = systemClock();
  await data.loadEvents(generateEvents({ seed: 5, initials: 5000, start: now - 3 * DAY, spanMicros: 3 * DAY }).map(({ event }) => event));
  await data.close();
});
afterAll(async () => {
  await Promise.all([mariadb?.stop(), redis?.stop()]);
});

async function npmRun(script: string, ...args: string[]): Promise<{ code: number; output: string }> {
  const env = { ...process.env, MARIADB_URL: mariadb.url, REDIS_URL: redis.url };
  try {
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', '-s', script, ...(args.length > 0 ? ['--', ...args] : [])], { cwd: ROOT, env });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('npm run verify, npm run rebuild and npm run migrate', () => {
  it('say what they do with --help (exit 0), and refuse an unknown argument (exit 2)', async () => {
    for (const script of ['verify', 'rebuild', 'migrate']) {
      const help = await npmRun(script, '--help');
      expect(help.code).toBe(0);
      expect(help.output).toMatch(/^Usage: npm run verify \| npm run rebuild \| npm run migrate[^]*Exit status 2/);
    }
    const wrong = await npmRun('verify', '--fast');
    expect(wrong.code).toBe(2);
    expect(wrong.output).toMatch(/unknown arguments: verify --fast/);
  });

  it('verify passes on consistent data, fails naming the difference, and rebuild mends it', async () => {
    let result = await npmRun('verify');
    expect(result.output).toMatch(/verified: \d+ events, \d+ aggregate hashes checked .*no difference/);
    expect(result.code).toBe(0);

    // Corrupt one count in Redis, as a bug or a partial write would.
    const client = new Redis(redis.url);
    const [key] = await client.keys('og:{p0}:h:*');
    expect(key).toBeDefined();
    await client.hincrby(key as string, 'ce', 1);
    client.disconnect();
    result = await npmRun('verify');
    expect(result.code).toBe(1);
    expect(result.output).toContain(`partition 0, ${(key as string).slice("og:{p0}:".length)}, ce: raw events say`);

    result = await npmRun('rebuild');
    expect(result.output).toMatch(/rebuilt the aggregates of 8 partitions from MariaDB/);
    expect(result.code).toBe(0);
    expect((await npmRun('verify')).code).toBe(0);
  });

  it('migrate brings raw events of the earlier schema up to date: refused before, the same answers after', async () => {
    const now = systemClock();
    const read = async () => {
      const data = await MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url });
      try {
        return [await data.rangeAggregates(now - 2 * DAY + 123, now - DAY - 4567), await data.series({ lower: now - 3 * DAY, upper: now, interval: '1h', tz: 'Asia/Kathmandu', symbol: null })];
      } finally {
        await data.close();
      }
    };
    const before = await read();
    // The earlier versions' tables: followups without their initial's letter and time, no heads.
    await mariadb.query('ALTER TABLE followups DROP KEY by_initial, DROP COLUMN symbol, DROP COLUMN initial_ts');
    await mariadb.query('ALTER TABLE initials DROP KEY by_ts_symbol, ADD KEY by_ts (ts)');
    await mariadb.query('DROP TABLE heads');
    await expect(MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url })).rejects.toThrow(/schema of an earlier version \(followups.*npm run migrate/);

    const migrated = await npmRun('migrate');
    expect(migrated.output).toMatch(/the raw events in MariaDB are in the current schema/);
    expect(migrated.code).toBe(0);
    expect((await npmRun('migrate')).code).toBe(0); // again: nothing to do
    expect(await read()).toEqual(before);
    // The version just before: only the heads missing.
    await mariadb.query('DROP TABLE heads');
    await expect(MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url })).rejects.toThrow(/schema of an earlier version \(no heads table.*npm run migrate/);
    expect((await npmRun('migrate')).code).toBe(0);
    expect(await read()).toEqual(before);
    const verified = await npmRun('verify');
    expect(verified.output).toMatch(/no difference/);
    expect(verified.code).toBe(0);

    // A copy out of step is a difference verify names.
    await mariadb.query("UPDATE followups SET symbol = IF(symbol = 'a', 'b', 'a') LIMIT 1");
    const wrong = await npmRun('verify');
    expect(wrong.output).toMatch(/1 followups carry a letter or time other than their initial's/);
    expect(wrong.code).toBe(1);
  });
});
