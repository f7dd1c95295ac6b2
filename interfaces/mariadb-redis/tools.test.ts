// `npm run verify` and `npm run rebuild` as a user runs them: on real servers, through npm.

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

describe('npm run verify and npm run rebuild', () => {
  it('say what they do with --help (exit 0), and refuse an unknown argument (exit 2)', async () => {
    for (const script of ['verify', 'rebuild']) {
      const help = await npmRun(script, '--help');
      expect(help.code).toBe(0);
      expect(help.output).toMatch(/^Usage: npm run verify \| npm run rebuild[^]*Exit status 2/);
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
});
