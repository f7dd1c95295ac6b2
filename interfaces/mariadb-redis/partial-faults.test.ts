// Partial faults: one process or one clock in trouble, the rest of the service unaffected. Real
// servers, real faults from outside (SIGSTOP of a server process inside its batch transaction, a
// wall clock stepped by libfaketime); each test ends with expectExact (the raw export holds exactly
// what was acknowledged, every dashboard says what the export says). An API host cut off from Redis
// alone is in `npm run test:hosts` (it needs network namespaces).

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { Letter } from '../contract.ts';
import { useFaultServers } from '../../test/fault-servers.ts';
import { drive, expectExact, newLedger, post, type Entry, type Ledger } from '../../test/ingest.ts';
import { startAppServer, type AppServer } from '../../test/servers/app-server.ts';
import { makeTempDir, removeTempDir } from '../../test/servers/process.ts';
import { SteppedClock } from '../../test/servers/stepped-clock.ts';

const servers = useFaultServers();

/** The interface's 2 s deadline. */
const DEADLINE_MS = 2000;
const TWO_HOURS_S = 7200;

/** A steady load on `urls` (a followup for every third initial) until stop() is called; 503s are sent again. */
function steadyLoad(ledger: Ledger, urls: string[]): { stop(): Promise<void> } {
  const controller = new AbortController();
  const running = drive({ ledger, urls, initials: Infinity, concurrency: 4, followupEvery: 3, signal: controller.signal });
  return {
    stop: () => {
      controller.abort();
      return running.then(() => undefined);
    },
  };
}

/** The requests of `ledger` sent to `url` from `since` (Date.now()) until `until`. */
const sentTo = (ledger: Ledger, url: string, since: number, until = Infinity): Entry[] =>
  ledger.requests.filter((entry) => entry.url === url && entry.sentAt >= since && entry.sentAt < until);

/** The initials a transaction not yet committed has written (READ UNCOMMITTED against the committed heads). */
async function uncommittedInitials(): Promise<{ uuid: string; symbol: Letter; part: number }[]> {
  const connection = await mysql.createConnection({ uri: servers.mariadb.url, multipleStatements: true });
  try {
    const [heads] = await connection.query<mysql.RowDataPacket[]>('SELECT part, MAX(seq) AS seq FROM batches GROUP BY part');
    const committed = new Map(heads.map((row) => [Number(row.part), Number(row.seq)]));
    const [results] = await connection.query<mysql.RowDataPacket[][]>('SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; SELECT LOWER(INSERT(INSERT(INSERT(INSERT(HEX(uuid), 9, 0, "-"), 14, 0, "-"), 19, 0, "-"), 24, 0, "-")) AS uuid, symbol, part, seq FROM initials');
    const rows = results[1] ?? [];
    return rows.filter((row) => Number(row.seq) > (committed.get(Number(row.part)) ?? 0)).map((row) => ({ uuid: row.uuid, symbol: row.symbol, part: Number(row.part) }));
  } finally {
    await connection.end();
  }
}

/**
 * Freezes `server`, the writer of partition `part`, (SIGSTOP) at a moment its batch transaction
 * holds locks in MariaDB: its partition's last batch and the initials of the batch. Resolves with
 * those initials.
 */
async function freezeInTransaction(server: AppServer, part: number): Promise<{ uuid: string; symbol: Letter }[]> {
  for (let attempt = 0; attempt < 200; attempt++) {
    process.kill(server.pid, 'SIGSTOP');
    await sleep(50);
    const open = (await uncommittedInitials()).filter((initial) => initial.part === part);
    if (open.length > 0) return open;
    process.kill(server.pid, 'SIGCONT');
    await sleep(20 + Math.random() * 30);
  }
  throw new Error('the server was never caught inside a batch transaction in 200 tries');
}

describe('partial faults stay where they are', () => {
  it('a wall clock stepped back 2 h after a failed write, then forward again: writes resume at once, the writer keeps its claim', async () => {
    const dir = await makeTempDir('clock');
    servers.afterTest(() => removeTempDir(dir));
    const clock = await SteppedClock.create(dir);
    const server = await startAppServer({ ...servers.env(), ...clock.env() });
    servers.afterTest(() => server.stop());
    const ledger = newLedger();
    const load = steadyLoad(ledger, [server.url]);
    await sleep(1500);
    const claim = 'og:{p0}:writer';
    const holder = await servers.redis.command('GET', claim);

    // MariaDB frozen long enough for a batch to fail (503), the clock stepped back meanwhile: the
    // batch in flight at the freeze runs into its deadline after its COMMIT (in doubt: it waits to
    // learn the outcome), the next batch into its own before it (a sure 503).
    await servers.mariadb.kill('SIGSTOP');
    await sleep(4500);
    await clock.set(-TWO_HOURS_S);
    await servers.mariadb.kill('SIGCONT');
    const resumedAt = Date.now();
    // Past a renewal of the writer's claim (every 10 s), on the stepped clock: its time to live goes up.
    const ttls: number[] = [];
    while (Date.now() < resumedAt + 11_000) {
      ttls.push(Number(await servers.redis.command('PTTL', claim)));
      await sleep(250);
    }
    const holderAfter = await servers.redis.command('GET', claim);
    await clock.set(0);
    const forwardAt = Date.now();
    await sleep(4000);
    await load.stop();

    const failed = ledger.requests.filter((entry) => entry.status === 503 && entry.sentAt < resumedAt);
    expect(failed.length, 'requests refused while MariaDB was frozen').toBeGreaterThan(0);
    const firstAck = ledger.requests.find((entry) => entry.status === 200 && entry.sentAt >= resumedAt);
    const recoveredMs = firstAck ? firstAck.answeredAt - resumedAt : Infinity;
    console.log(`clock stepped back 2 h: writes acknowledged again ${recoveredMs} ms after MariaDB resumed`);
    expect(recoveredMs, 'ms from MariaDB resuming to the next acknowledged write').toBeLessThan(4000);
    expect(sentTo(ledger, server.url, forwardAt).filter((entry) => entry.status !== 200), 'requests after the clock stepped forward 2 h').toEqual([]);
    expect(holderAfter, 'the claim on partition 0 after the step').toBe(holder);
    expect(ttls.some((ttl, i) => i > 0 && ttl > (ttls[i - 1] as number)), `the claim renewed on the stepped clock (ms left: ${ttls.join(' ')})`).toBe(true);
    await expectExact(ledger, { urls: [server.url], data: await servers.openInterface(), clockOffsetsUs: [0, -TWO_HOURS_S * 1e6] });
  }, 120_000);

  it('a server process starting while a writer is frozen inside its transaction: it starts, and the other writers do not wait', async () => {
    // The healthy writer claims partition 0, the one to freeze partition 1: a start-up that scanned
    // and locked `batches` would hold the healthy writer's rows while it waits for the frozen one's.
    const healthy = await startAppServer(servers.env());
    servers.afterTest(() => healthy.stop());
    const frozen = await startAppServer(servers.env());
    servers.afterTest(() => frozen.stop());
    const ledger = newLedger();
    const frozenLoad = steadyLoad(ledger, [frozen.url]);
    await sleep(1000);
    await freezeInTransaction(frozen, 1);
    const healthyLoad = steadyLoad(ledger, [healthy.url]);
    await sleep(500);

    const startedAt = Date.now();
    const starting = await startAppServer(servers.env(), 60_000);
    servers.afterTest(() => starting.stop());
    const startMs = Date.now() - startedAt;
    // Its first batch, into a partition no one wrote yet, while the other writer is still frozen.
    const firstWrites = await Promise.all(['a', 'b', 'c'].map((symbol) => post(ledger, starting.url, { route: 'initial', uuid: randomUUID(), symbol: symbol as Letter }, 10_000)));
    await sleep(1000);
    const during = sentTo(ledger, healthy.url, startedAt - 500);
    await healthyLoad.stop();
    process.kill(frozen.pid, 'SIGCONT');
    await frozenLoad.stop();

    const slowest = Math.max(...during.map((entry) => entry.ms));
    console.log(`start-up beside a frozen writer: ${startMs} ms, its first writes ${firstWrites.map((entry) => `${entry.status} in ${entry.ms} ms`).join(', ')}; the healthy writer meanwhile: ${during.length} requests, ${during.filter((entry) => entry.status !== 200).length} not 200, the slowest ${slowest} ms`);
    expect(startMs, 'ms for the new process to answer /healthz').toBeLessThan(10_000);
    expect(firstWrites.map((entry) => `${entry.status} in ${entry.ms < DEADLINE_MS ? 'time' : `${entry.ms} ms`}`), 'the new process\'s first writes').toEqual(Array(3).fill('200 in time'));
    expect(during.filter((entry) => entry.status !== 200).map((entry) => `${entry.status} ${entry.answer}`), 'the healthy writer\'s requests').toEqual([]);
    expect(slowest, 'the healthy writer\'s slowest request, ms').toBeLessThan(DEADLINE_MS);
    await expectExact(ledger, { urls: [healthy.url, starting.url], data: await servers.openInterface() });
  }, 120_000);

  it('a retry of a uuid whose first request is frozen inside another writer\'s transaction: only that retry waits', async () => {
    const [frozen, healthy] = [await startAppServer(servers.env()), await startAppServer(servers.env())];
    servers.afterTest(() => frozen.stop());
    servers.afterTest(() => healthy.stop());
    const ledger = newLedger();
    const [frozenLoad, healthyLoad] = [steadyLoad(ledger, [frozen.url]), steadyLoad(ledger, [healthy.url])];
    await sleep(1000);
    // The first to start claims partition 0.
    const [stuck] = await freezeInTransaction(frozen, 0);
    if (!stuck) throw new Error('no initial in the frozen transaction');

    // The client, its request unanswered, sends it again to another process, once a second.
    const stallFrom = Date.now();
    const retries: Entry[] = [];
    for (let i = 0; i < 4; i++) {
      retries.push(await post(ledger, healthy.url, { route: 'initial', ...stuck }));
      await sleep(1000);
    }
    await healthyLoad.stop();
    // Alone in its batch, and a fresh request right after it: not held up either.
    retries.push(await post(ledger, healthy.url, { route: 'initial', ...stuck }));
    await post(ledger, healthy.url, { route: 'initial', uuid: randomUUID(), symbol: 'z' });
    const others = sentTo(ledger, healthy.url, stallFrom).filter((entry) => entry.uuid !== stuck.uuid);
    process.kill(frozen.pid, 'SIGCONT');
    await frozenLoad.stop();
    // Sent until acknowledged, as the client would.
    for (let i = 0; i < 50 && (await post(ledger, healthy.url, { route: 'initial', ...stuck })).status !== 200; i++) await sleep(200);

    const refused = others.filter((entry) => entry.status !== 200);
    console.log(`a stuck uuid retried 5 times over 5 s: ${others.length} other requests, ${refused.length} not 200; the retries answered ${retries.map((entry) => `${entry.status} in ${entry.ms} ms`).join(', ')}`);
    expect(refused.map((entry) => `${entry.status} ${entry.answer}`), 'requests for other uuids while one is stuck').toEqual([]);
    for (const retry of retries) {
      expect(retry.status, `the stuck uuid's retry: ${retry.answer}`).toBe(503);
      expect(retry.ms, 'ms until the stuck uuid\'s retry is answered').toBeLessThan(DEADLINE_MS);
    }
    await expectExact(ledger, { urls: [healthy.url, frozen.url], data: await servers.openInterface() });
  }, 120_000);
});
