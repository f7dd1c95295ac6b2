// Faults on real servers: the service must lose no acknowledged event, count none twice, and come
// back to exact dashboards by itself.

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { countsByLetter, drive, type Acknowledged } from '../../test/ingest.ts';
import { startAppServer } from '../../test/servers/app-server.ts';
import { startMariadb, type MariadbServer } from '../../test/servers/mariadb.ts';
import { startRedis, type RedisServer } from '../../test/servers/redis.ts';
import { LETTERS } from '../contract.ts';
import { MariadbRedisInterface } from './index.ts';
import { verify } from './verify.ts';

let mariadb: MariadbServer;
let redis: RedisServer;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  [mariadb, redis] = await Promise.all([startMariadb(), startRedis()]);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await Promise.all([mariadb.stop(), redis.stop()]);
});

const env = () => ({ DATA_INTERFACE: 'mariadb-redis', MARIADB_URL: mariadb.url, REDIS_URL: redis.url });

async function openInterface(options: { partition?: number } = {}): Promise<MariadbRedisInterface> {
  const data = await MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url, ...options });
  cleanups.push(() => data.close());
  return data;
}

/** The app on an in-process interface, on a free port. */
async function serve(data: MariadbRedisInterface): Promise<string> {
  const server = createApp({ data }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Exact: Redis equals what the raw events say (verify), every acknowledged initial is counted once
 * (the driver retried each until acknowledged, so the raw initials are exactly those), and no
 * acknowledged followup is missing. Waits for a rebuild or reconcile that may still be running.
 */
async function expectExact(acknowledged: Acknowledged): Promise<void> {
  const checker = await openInterface();
  let differences: string[] = ['not verified yet'];
  for (const deadline = Date.now() + 20_000; differences.length > 0 && Date.now() < deadline; ) {
    differences = await verify(checker).then((report) => report.differences, (error: Error) => [error.message]);
    if (differences.length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(differences).toEqual([]);
  const counts = countsByLetter(acknowledged);
  const followups = new Map<string, number>();
  for (const uuid of acknowledged.followups) {
    const symbol = acknowledged.initials.get(uuid) as string;
    followups.set(symbol, (followups.get(symbol) ?? 0) + 1);
  }
  for (const letter of LETTERS) {
    const aggregate = await checker.symbolAggregate(letter);
    expect(aggregate.count, `count of ${letter}`).toBe(counts.get(letter) ?? 0);
    // A followup whose 503 came after its commit was stored and then sent again: at least, never fewer.
    expect(aggregate.followups, `followups of ${letter}`).toBeGreaterThanOrEqual(followups.get(letter) ?? 0);
  }
}

describe('mariadb-redis under faults', () => {
  it('(a) a kill between the MariaDB commit and the Redis update: reconciled on restart, nothing twice', async () => {
    let server = await startAppServer(env());
    const acknowledged = await drive({ urls: [server.url], initials: 300, concurrency: 4, followupEvery: 3 });
    await server.stop();

    server = await startAppServer({ ...env(), FAULT_INJECTION: 'kill-after-commit' });
    const uuid = randomUUID();
    const lost = await fetch(`${server.url}/initial?uuid=${uuid}&symbol=e`, { method: 'POST' }).then(() => 'answered', () => 'no answer');
    expect(lost).toBe('no answer');
    expect(await server.exited).toBe('SIGKILL');

    server = await startAppServer(env());
    cleanups.push(() => server.stop());
    // The client retries its unanswered request: the stored initial answers it, counted once.
    const retry = await fetch(`${server.url}/initial?uuid=${uuid}&symbol=e`, { method: 'POST' });
    expect(retry.status).toBe(200);
    acknowledged.initials.set(uuid, 'e');
    await expectExact(acknowledged);
  });

  it('(b) Redis flushed, then restarted empty, while ingest goes on: rebuilt by itself', async () => {
    const url = await serve(await openInterface());
    const acknowledged = await drive({
      urls: [url],
      initials: 3000,
      concurrency: 8,
      followupEvery: 4,
      onProgress: async (n) => {
        if (n === 800) await redis.flushAll();
        if (n === 1800) await redis.restart();
      },
    });
    await expectExact(acknowledged);
  });

  it('(c) MariaDB killed under load: 503 with Retry-After at once, nothing acknowledged lost, resumes by itself', async () => {
    const data = await openInterface();
    const url = await serve(data);
    let outage: { status: number; retryAfter: string | null; symbolDashboard: number } | undefined;
    const acknowledged = await drive({
      urls: [url],
      initials: 2000,
      concurrency: 8,
      followupEvery: 4,
      onProgress: async (n) => {
        if (n !== 600) return;
        await mariadb.kill('SIGKILL');
        // Not a hanging request: an answer, well before any client would give up.
        const response = await fetch(`${url}/initial?uuid=${randomUUID()}&symbol=a`, { method: 'POST', signal: AbortSignal.timeout(5000) });
        const symbolDashboard = (await fetch(`${url}/dashboard/symbol/a`)).status;
        outage = { status: response.status, retryAfter: response.headers.get('retry-after'), symbolDashboard };
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await mariadb.restart();
      },
    });
    expect(outage).toEqual({ status: 503, retryAfter: expect.stringMatching(/^\d+$/), symbolDashboard: 200 });
    expect(acknowledged.refusals).toBeGreaterThan(0);
    await expectExact(acknowledged);
  });

  it('(d) two server processes (WORKERS=2) writing at once: exact', async () => {
    const server = await startAppServer({ ...env(), WORKERS: '2' });
    cleanups.push(() => server.stop());
    const acknowledged = await drive({ urls: [server.url], initials: 2000, concurrency: 8, followupEvery: 3 });
    const checker = await openInterface();
    const [rows] = await checker.db.pool.query('SELECT COUNT(DISTINCT part) AS writers FROM batches');
    expect((rows as { writers: number }[])[0]?.writers).toBe(2);
    await expectExact(acknowledged);
  });

  it('two writers sharing one partition: batches never collide, exact', async () => {
    const [first, second] = [await openInterface({ partition: 3 }), await openInterface({ partition: 3 })];
    const urls = [await serve(first), await serve(second)];
    const acknowledged = await drive({ urls, initials: 2000, concurrency: 8, followupEvery: 3 });
    await expectExact(acknowledged);
  });
});
