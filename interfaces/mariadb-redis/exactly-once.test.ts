// Exactly once, and every dashboard exact, through the faults of an ordinary day in production:
// Redis stalls, Redis back from an older snapshot, the database recreated or restored under a live
// Redis, MariaDB stalled by a backup's lock or frozen. Real servers, real stalls, under a load that
// retries 503s as `npm run client` does; each test ends with expectExact (the raw export holds
// exactly what was acknowledged, every dashboard says what the export says).
//
// The stalls check the deadlines too: nothing waits on a stalled store much past its ~2 s, except
// a request already in flight when the stall began (a batch whose COMMIT was sent waits until
// MariaDB can tell whether it is stored, then answers 200 or 503).

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useFaultServers } from '../../test/fault-servers.ts';
import { drive, expectExact, newLedger, post, probeDashboard, slowerThan, type DashboardProbe, type Entry, type Ledger } from '../../test/ingest.ts';

const servers = useFaultServers();

// The interface's 2 s, with room for a loaded 2-core machine.
const DEADLINE_MS = 3000;

/** A steady load on `url` (a followup for every third initial) that meets `fault` once `at` initials are acknowledged. */
function loadMeeting(fault: () => Promise<void>, options: { ledger: Ledger; url: string; initials: number; at: number }): Promise<Ledger> {
  const { ledger, url, initials, at } = options;
  return drive({ ledger, urls: [url], initials, concurrency: 8, followupEvery: 3, onProgress: async (n) => (n === at ? fault() : undefined) });
}

/**
 * A dashboard asked during a fault answered within the deadline with one of `statuses`: a 503
 * says when to retry, a 200 counts every initial acknowledged before it was asked.
 */
function expectTimely(answer: DashboardProbe | undefined, statuses: number[], label: string): void {
  expect.soft(answer?.ms, `${label}: ms until the answer`).toBeLessThan(DEADLINE_MS);
  expect.soft(statuses, `${label}: ${answer?.status} ${answer?.body}`).toContain(answer?.status);
  if (answer?.status === 503) expect.soft(answer.retryAfter, `${label}: Retry-After`).toMatch(/^\d+$/);
  if (answer?.status === 200) expect.soft(JSON.parse(answer.body).count, `${label}: count`).toBeGreaterThanOrEqual(answer.acknowledged);
}

describe('exactly once through ordinary faults', () => {
  it('Redis stalls under load (CLIENT PAUSE 7 s): no request waits on it, no 503 for a stored event', async () => {
    const data = await servers.openInterface();
    const url = await servers.serve(data);
    const ledger = newLedger();
    let dashboard: Promise<DashboardProbe> | undefined;
    await loadMeeting(
      async () => {
        await servers.redis.pause(7000);
        // Asked a second into the stall, without holding up this worker's load.
        dashboard = sleep(1000).then(() => probeDashboard(ledger, url, 'e'));
      },
      { ledger, url, initials: 4000, at: 1000 },
    );
    expect.soft(slowerThan(ledger, DEADLINE_MS), 'requests that waited on the stalled Redis').toEqual([]);
    expectTimely(await dashboard, [200, 503], 'a symbol dashboard during the stall');
    // Nothing stored by a request answered 503: its retry would store a followup twice.
    await expectExact(ledger, { urls: [url], data });
  });

  it('Redis back from an older snapshot, one writer gone: the remaining instance answers exact at once', async () => {
    const [remaining, leaving] = [await servers.openInterface({ partition: 0 }), await servers.openInterface({ partition: 1 })];
    const remainingUrl = await servers.serve(remaining);
    let snapshot = '';
    const ledger = await drive({
      urls: [remainingUrl, await servers.serve(leaving)],
      initials: 2000,
      concurrency: 8,
      followupEvery: 4,
      onProgress: async (n) => {
        if (n === 800) snapshot = await servers.redis.snapshot();
      },
    });
    // Partition 1's writer leaves for good (fewer workers, a host removed); then Redis crashes and
    // comes back from the snapshot, behind both partitions. Nothing will write partition 1 again.
    await leaving.close();
    await servers.redis.restartFromSnapshot(snapshot);
    await drive({ ledger, urls: [remainingUrl], initials: 300, concurrency: 8, followupEvery: 4 });
    await expectExact(ledger, { urls: [remainingUrl], data: remaining });
  });

  it('the database recreated under a live Redis: every new event counts, none of the old ones', async () => {
    const old = await servers.openInterface();
    await drive({ urls: [await servers.serve(old)], initials: 1000, concurrency: 8, followupEvery: 3 });
    await old.close();
    await servers.mariadb.recreateDatabase();
    // Redis still holds the old database's rollups and marks. The next server creates the schema.
    const data = await servers.openInterface();
    const url = await servers.serve(data);
    const ledger = await drive({ urls: [url], initials: 40, concurrency: 8, followupEvery: 4 });
    await expectExact(ledger, { urls: [url], data });
  });

  it('the database restored from a dump under a live Redis: the dashboards follow the restored events', async () => {
    const before = await servers.openInterface();
    const url = await servers.serve(before);
    const ledger = await drive({ urls: [url], initials: 800, concurrency: 8, followupEvery: 3 });
    const dump = await servers.mariadb.dump();
    // Acknowledged, counted in Redis, then undone by the restore: the operator's choice, not a loss.
    await drive({ urls: [url], initials: 800, concurrency: 8, followupEvery: 3 });
    await before.close();
    await servers.mariadb.restore(dump);
    const data = await servers.openInterface();
    const next = await servers.serve(data);
    await drive({ ledger, urls: [next], initials: 400, concurrency: 8, followupEvery: 3 });
    await expectExact(ledger, { urls: [next], data });
  });

  it('MariaDB stalled by a global read lock held 25 s: writes get a 503 in time, the symbol dashboard keeps answering', async () => {
    const data = await servers.openInterface();
    const url = await servers.serve(data);
    const ledger = newLedger();
    let lockedAt = Infinity;
    let write: Entry | undefined;
    const dashboards: DashboardProbe[] = [];
    await loadMeeting(
      async () => {
        // As a backup tool takes it: reads go on, every write and commit waits until the release.
        await servers.mariadb.holdGlobalReadLock(25_000);
        lockedAt = Date.now();
        await Promise.all([
          post(ledger, url, { route: 'initial', uuid: randomUUID(), symbol: 'a' }).then((entry) => (write = entry)),
          (async () => {
            // While the writes pile up behind the lock: they must not take what the reads need.
            for (const wait of [1000, 5000, 6000]) {
              await sleep(wait);
              dashboards.push(await probeDashboard(ledger, url, 'e'));
            }
          })(),
        ]);
      },
      { ledger, url, initials: 3000, at: 800 },
    );
    expect.soft(write, 'POST /initial under the lock').toMatchObject({ status: 503 });
    expect.soft(write?.ms, 'ms POST /initial took under the lock').toBeLessThan(DEADLINE_MS);
    expect(dashboards).toHaveLength(3);
    dashboards.forEach((dashboard, i) => expectTimely(dashboard, [200], `symbol dashboard ${i + 1} under the lock`));
    expect.soft(slowerThan(ledger, DEADLINE_MS, lockedAt), 'requests sent under the lock that waited on it').toEqual([]);
    await expectExact(ledger, { urls: [url], data });
  });

  it('MariaDB frozen for 6 s (SIGSTOP): answers within the deadline, dashboards 503 meanwhile, exact after', async () => {
    const data = await servers.openInterface();
    const url = await servers.serve(data);
    const ledger = newLedger();
    let frozenAt = Infinity;
    let thawed: Promise<void> = Promise.resolve();
    let dashboard: DashboardProbe | undefined;
    await loadMeeting(
      async () => {
        frozenAt = Date.now();
        await servers.mariadb.kill('SIGSTOP');
        thawed = sleep(6000).then(() => servers.mariadb.kill('SIGCONT'));
        await sleep(1000);
        dashboard = await probeDashboard(ledger, url, 'e');
      },
      { ledger, url, initials: 3000, at: 800 },
    );
    await thawed;
    // A request sent in the first moments of the freeze may still have joined a batch whose COMMIT
    // went out (a writer with several lanes sends more than one before it notices): it may wait.
    expect.soft(slowerThan(ledger, DEADLINE_MS, frozenAt + 500), 'requests sent to a frozen MariaDB that waited on it').toEqual([]);
    // No answer can be proved complete without MariaDB: a 503, not a guess from Redis.
    expectTimely(dashboard, [503], 'a symbol dashboard while MariaDB is frozen');
    await expectExact(ledger, { urls: [url], data });
  });

  it('a log no one wrote to since a read at its head: answered from that read while Redis stalls, exact; a write moves the head', async () => {
    const data = await servers.openInterface();
    const url = await servers.serve(data);
    const ledger = await drive({ urls: [url], initials: 300, concurrency: 4, followupEvery: 3 });
    await expectExact(ledger, { urls: [url], data }); // every dashboard read, at the head
    const before = await probeDashboard(ledger, url, 'e');
    expect(before.status).toBe(200);

    const paused = servers.redis.pause(6000).then(() => sleep(6000));
    await sleep(500);
    // The head did not move: the same numbers, at once, with Redis stalled.
    const still = await probeDashboard(ledger, url, 'e');
    expect({ status: still.status, body: still.body }).toEqual({ status: 200, body: before.body });
    expect(still.ms).toBeLessThan(DEADLINE_MS / 2);
    // A write is stored without Redis, and moves its partition's head: the next read needs Redis.
    expect((await post(ledger, url, { route: 'initial', uuid: randomUUID(), symbol: 'e' }, DEADLINE_MS)).status).toBe(200);
    expectTimely(await probeDashboard(ledger, url, 'e'), [503], 'a symbol dashboard after a write, Redis stalled');
    await paused;
    await expectExact(ledger, { urls: [url], data });
  });
});
