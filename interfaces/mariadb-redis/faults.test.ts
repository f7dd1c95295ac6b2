// Faults on real servers: the service must lose no acknowledged event, count none twice, and come
// back to exact dashboards by itself. Each test ends with expectExact: the raw export holds
// exactly what the ledger says was acknowledged, and every dashboard says what the export says.
// The faults are injected from here (signals, CLIENT PAUSE): the service has no test hooks.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useFaultServers } from '../../test/fault-servers.ts';
import { drive, expectExact, newLedger, post, probe } from '../../test/ingest.ts';
import { startAppServer } from '../../test/servers/app-server.ts';

const servers = useFaultServers();

describe('mariadb-redis under faults', () => {
  it('(a) a kill after MariaDB committed batches Redis has not applied: reconciled by the next server, nothing twice', async () => {
    // Opened before the fault, so that its own start-up reconcile cannot be what mends it.
    const data = await servers.openInterface();
    const first = await startAppServer(servers.env());
    servers.afterTest(() => first.stop());
    const ledger = await drive({ urls: [first.url], initials: 300, concurrency: 4, followupEvery: 3 });

    // Redis takes no writes: the next batches commit in MariaDB and stay unapplied. A commit is
    // what makes a request durable, so each is acknowledged all the same, within the deadline.
    await servers.redis.pause(20_000, 'WRITE');
    const before = ledger.requests.length;
    await drive({ ledger, urls: [first.url], initials: 200, concurrency: 8, followupEvery: 3, timeoutMs: 3000, retryForMs: 10_000 });
    expect(ledger.requests.slice(before).filter((entry) => entry.status !== 200)).toEqual([]);
    process.kill(first.pid, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await servers.redis.unpause();

    const next = await startAppServer(servers.env());
    servers.afterTest(() => next.stop());
    await expectExact(ledger, { urls: [next.url], data });
  });

  it('(b) Redis flushed, then restarted empty, while ingest goes on: rebuilt by itself', async () => {
    const data = await servers.openInterface();
    const url = await servers.serve(data);
    const ledger = await drive({
      urls: [url],
      initials: 3000,
      concurrency: 8,
      followupEvery: 4,
      onProgress: async (n) => {
        if (n === 800) await servers.redis.flushAll();
        if (n === 1800) await servers.redis.restart();
      },
    });
    await expectExact(ledger, { urls: [url], data });
  });

  it('(c) MariaDB killed under load: 503 with Retry-After at once, for writes and dashboards; nothing acknowledged lost, resumes by itself', async () => {
    const data = await servers.openInterface();
    const url = await servers.serve(data);
    const ledger = newLedger();
    let outage: { write: number | null; dashboard: number | null; dashboardRetryAfter: string | null } | undefined;
    await drive({
      ledger,
      urls: [url],
      initials: 2000,
      concurrency: 8,
      followupEvery: 4,
      onProgress: async (n) => {
        if (n !== 600) return;
        await servers.mariadb.kill('SIGKILL');
        // Answers, well before any client would give up. A dashboard cannot prove it holds every
        // acknowledged event without MariaDB: a 503 too, not a guess from Redis.
        const [write, dashboard] = await Promise.all([
          post(ledger, url, { route: 'initial', uuid: randomUUID(), symbol: 'a' }, 5000),
          probe(`${url}/dashboard/symbol/a`, 5000),
        ]);
        outage = { write: write.status, dashboard: dashboard.status, dashboardRetryAfter: dashboard.retryAfter };
        await sleep(1500);
        await servers.mariadb.restart();
      },
    });
    // (post() fails a 503 without Retry-After.)
    expect(outage).toEqual({ write: 503, dashboard: 503, dashboardRetryAfter: expect.stringMatching(/^\d+$/) });
    expect(ledger.requests.some((entry) => entry.status !== 200)).toBe(true);
    await expectExact(ledger, { urls: [url], data });
  });

  it('(d) two server processes (WORKERS=2) writing at once: exact', async () => {
    const data = await servers.openInterface();
    const server = await startAppServer({ ...servers.env(), WORKERS: '2' });
    servers.afterTest(() => server.stop());
    // /healthz answers once one process listens; the load's connections are made at once, so both must.
    await expect.poll(() => server.output().match(/"msg":"listening"/g)?.length ?? 0, { timeout: 30_000 }).toBe(2);
    const ledger = await drive({ urls: [server.url], initials: 2000, concurrency: 8, followupEvery: 3 });
    // Two writers indeed: each process writes its own partition.
    expect(await servers.mariadb.query('SELECT COUNT(DISTINCT part) AS writers FROM batches')).toEqual([{ writers: 2 }]);
    await expectExact(ledger, { urls: [server.url], data });
  });

  it('two writers sharing one partition: batches never collide, exact', async () => {
    const [first, second] = [await servers.openInterface({ partition: 3 }), await servers.openInterface({ partition: 3 })];
    const urls = [await servers.serve(first), await servers.serve(second)];
    const ledger = await drive({ urls, initials: 1000, concurrency: 8, followupEvery: 3 });
    await expectExact(ledger, { urls, data: first });
  });
});
