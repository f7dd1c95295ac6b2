// `npm run test:hosts` (as root): the service over nine test hosts (deployment.ts) under a steady
// load of the project's client, one per API host with --ledger, while faults strike one after the
// other. After each, every API host's dashboards must equal the raw export, and the export the
// ledgers of every run so far: nothing acknowledged missing, nothing twice, nothing refused stored.
// First, that no one gets in: an intruder host on the same network, without credentials, is
// refused by every store; the service's users may do only their work; the passwords are in no
// command line, log or /metrics; and during the steady load no event's uuid crosses the network in
// clear text, but for the API's own HTTP.

import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LETTERS, type Letter } from '../../interfaces/contract.ts';
import { exportOverHttp, expectExact, readClientLedgers, readExport, type Ledger, type Stored } from '../ingest.ts';
import { DB } from '../servers/mariadb.ts';
import { redisCommand } from '../servers/redis.ts';
import { Capture, uuidsFoundIn } from './capture.ts';
import { clientTls, MARIADB_PORT, REDIS_PORTS, startDeployment, type ApiServer, type Deployment, type GaleraNode, type RedisNode } from './deployment.ts';
import type { Attempt } from './intruder.ts';
import { removeLeftovers, type TestHost } from './network.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Each fault strikes this long into a run of the clients. */
const FAULT_AT_MS = 6_000;
const RUN_SECONDS = 25;
/** The service acknowledges again this long before the end of the run (every fault over, or, for the bad link, ridden out). */
const RECOVERED_FOR_MS = 5_000;

let deployment: Deployment;
/** A host on the same bridge that has nothing but the CA's certificate (public). */
let intruder: TestHost;
const ledgers: string[] = [];

beforeAll(async () => {
  deployment = await startDeployment();
  intruder = await deployment.network.addHost('intruder', 99);
}, 600_000);

afterAll(async () => {
  // Without a deployment (its start failed or timed out), whatever it had made yet.
  await (deployment ? deployment.stop() : removeLeftovers());
}, 120_000);

/**
 * Runs one client per API host for RUN_SECONDS, `fault` striking FAULT_AT_MS in; then `repair`
 * (when the fault outlasts the load), then the check.
 */
async function underLoad(name: string, fault: () => Promise<void>, repair?: () => Promise<void>): Promise<void> {
  const started = Date.now();
  const files = deployment.api.map((server) => path.join(deployment.dir, `${name}-${server.host.name}.ndjson`));
  const runs = deployment.api.map((server, i) => client(server.url, files[i] as string));
  ledgers.push(...files);
  await sleep(FAULT_AT_MS);
  await fault();
  for (const run of runs) expect(await run, 'the client exit code').toBe(0);
  await repair?.();
  // Nothing lost is not enough: every API host serves again once the fault is over.
  for (const file of files) {
    const recovered = (await readClientLedgers([file])).requests.filter((entry) => entry.route === 'initial' && entry.status === 200 && entry.sentAt >= started + RUN_SECONDS * 1000 - RECOVERED_FOR_MS);
    expect(recovered.length, `${file}: initials acknowledged in the last ${RECOVERED_FOR_MS} ms of the run`).toBeGreaterThan(0);
  }
  await expectExact(await readClientLedgers(ledgers), { urls: deployment.api.map((server) => server.url), data: exportOverHttp(deployment.api[0]?.url as string, deployment.adminToken) });
}

/** `npm run client` against `url`; resolves with its exit code. Its output goes to the test's. */
function client(url: string, ledger: string): Promise<number | null> {
  const child = spawn(process.execPath, [path.join(ROOT, 'client', 'main.ts'), '--url', url, '--concurrency', '4', '--duration', String(RUN_SECONDS), '--ledger', ledger], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      console.log(`client of ${url}:\n${output.trim()}`);
      resolve(code);
    }),
  );
}

/** A dashboard read while a fault strikes: when it was asked and answered (Date.now()), and what it said per letter. */
interface DashboardRead {
  path: string;
  askedAt: number;
  answeredAt: number;
  status: number | null;
  letters: { symbol: Letter; count: number; followups: number }[];
}

/** Reads `url`'s dashboards one after the other until `until` (Date.now()): a letter's, then all letters over all time. */
async function readDashboards(url: string, until: number): Promise<DashboardRead[]> {
  const reads: DashboardRead[] = [];
  for (let i = 0; Date.now() < until; i++) {
    const path = i % 2 === 0 ? `/dashboard/symbol/${LETTERS[(i / 2) % 26]}` : '/dashboard/range/2000-01-01/2100-01-01';
    const askedAt = Date.now();
    const response = await fetch(url + path, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    const body: unknown = response?.ok ? await response.json() : await response?.text();
    reads.push({ path, askedAt, answeredAt: Date.now(), status: response?.status ?? null, letters: response?.ok ? [body].flat() as DashboardRead['letters'] : [] });
    await sleep(100);
  }
  return reads;
}

/**
 * Where a read answered 200 during the load is not exact: each letter must count at least what
 * was acknowledged before it was asked, and at most what was stored by the time it was answered.
 */
function inexactReads(reads: DashboardRead[], ledger: Ledger, stored: Stored): string[] {
  const SLACK_MS = 5; // the clocks of processes on one machine
  const sorted = (times: number[]) => times.sort((a, b) => a - b);
  const atMost = (times: number[], t: number) => {
    let [lo, hi] = [0, times.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((times[mid] as number) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const perLetter = () => new Map(LETTERS.map((letter) => [letter, [] as number[]]));
  const [ackedInitials, ackedFollowups, storedInitials, storedFollowups] = [perLetter(), perLetter(), perLetter(), perLetter()];
  const firstAck = new Map<string, { symbol: Letter; at: number }>();
  for (const entry of ledger.requests) {
    if (entry.status !== 200) continue;
    if (entry.route === 'followup') ackedFollowups.get(entry.symbol)?.push(entry.answeredAt);
    else if (!firstAck.has(entry.uuid)) firstAck.set(entry.uuid, { symbol: entry.symbol, at: entry.answeredAt });
  }
  for (const { symbol, at } of firstAck.values()) ackedInitials.get(symbol)?.push(at);
  for (const [uuid, initial] of stored.initials) {
    storedInitials.get(initial.symbol)?.push(initial.ts / 1000);
    for (const ts of stored.followups.get(uuid) ?? []) storedFollowups.get(initial.symbol)?.push(ts / 1000);
  }
  for (const map of [ackedInitials, ackedFollowups, storedInitials, storedFollowups]) for (const times of map.values()) sorted(times);
  const found: string[] = [];
  for (const read of reads.filter((r) => r.status === 200)) {
    for (const { symbol, count, followups } of read.letters) {
      const bounds = {
        count: [atMost(ackedInitials.get(symbol) ?? [], read.askedAt - SLACK_MS), atMost(storedInitials.get(symbol) ?? [], read.answeredAt + SLACK_MS)],
        followups: [atMost(ackedFollowups.get(symbol) ?? [], read.askedAt - SLACK_MS), atMost(storedFollowups.get(symbol) ?? [], read.answeredAt + SLACK_MS)],
      };
      for (const [what, value] of [['count', count], ['followups', followups]] as const) {
        const [lo, hi] = bounds[what] as [number, number];
        if (value < lo || value > hi) found.push(`${read.path} at ${new Date(read.askedAt).toISOString()}: ${symbol} ${what} ${value}, not within [${lo}, ${hi}] (acknowledged before it was asked, stored by its answer)`);
      }
    }
  }
  return found;
}

/** Each attempt's error, or what it got when it was not refused. */
async function refusals(attempts: Record<string, () => Promise<unknown>>): Promise<Record<string, string>> {
  const told: Record<string, string> = {};
  for (const [attempt, run] of Object.entries(attempts)) told[attempt] = await run().then((value) => `NOT REFUSED: ${JSON.stringify(value)}`, (error: Error) => error.message);
  return told;
}

describe('several hosts: API x3, Redis Cluster 3+3, MariaDB Galera x3', () => {
  it('an intruder on the network, with no credentials, is refused by MariaDB and by every Redis node', async () => {
    const redis = deployment.redis.map((node) => node.address);
    const targets = { mariadb: `${deployment.databaseAddress}:${MARIADB_PORT}`, redis, ca: path.join(deployment.secrets.tlsDir, 'ca.crt') };
    const output = await intruder.exec(process.execPath, [path.join(ROOT, 'test', 'hosts', 'intruder.ts'), JSON.stringify(targets)]);
    const attempts = output.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Attempt);
    for (const { attempt, told } of attempts) console.log(`intruder: ${attempt}: ${told}`);
    expect(attempts).toHaveLength(4 + 4 * redis.length);
    expect(attempts.filter((a) => a.gotIn), 'attempts that got in').toEqual([]);
    // Refused by the stores (reached, then turned away), not lost on the way.
    const expected = (a: Attempt) =>
      a.attempt.startsWith('MariaDB')
        ? /Access denied for user|insecure transport/
        : a.attempt.includes('plain text')
          ? /closed the connection without a reply|ECONNRESET/
          : /certificate required|alert|handshake|socket hang up|ECONNRESET|closed the connection/i;
    expect(attempts.filter((a) => !expected(a).test(a.told)).map((a) => `${a.attempt}: ${a.told}`), 'attempts refused for another reason').toEqual([]);
  });

  it("the service's users may do their work only: Redis's og its keys and commands, MariaDB's og its tables' rows; Redis has no default user", async () => {
    const { secrets } = deployment;
    // With a client certificate of the CA (as an API host has): what stops them is the user.
    const node = deployment.redis[0] as RedisNode;
    const [host, port] = [node.host.address, node.port];
    const tls = clientTls(secrets, 'ops');
    const asOg = (...args: string[]) => () => redisCommand(port, args, 2000, host, { tls, user: 'og', password: secrets.redisPassword });
    const db = () => mysql.createConnection({ host: deployment.databaseAddress, port: MARIADB_PORT, user: DB.user, password: secrets.mariadbPassword, database: DB.database, ssl: { ...clientTls(secrets), rejectUnauthorized: true } });
    const asDbOg = (sql: string) => async () => {
      const connection = await db();
      try {
        return await connection.query(sql);
      } finally {
        await connection.end();
      }
    };
    // What they may do works (so that each refusal below is the privilege's).
    expect(await asOg('PING')()).toBe('PONG');
    expect(await asDbOg('SELECT COUNT(*) AS n FROM batches')()).toBeTruthy();
    const told = await refusals({
      'Redis, no user': () => redisCommand(port, ['PING'], 2000, host, { tls }),
      'Redis, og: FLUSHALL': asOg('FLUSHALL'),
      'Redis, og: CONFIG SET': asOg('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'),
      'Redis, og: KEYS': asOg('KEYS', '*'),
      'Redis, og: a key outside og:': asOg('SET', 'other:key', '1'),
      'Redis, og: ACL LIST': asOg('ACL', 'LIST'),
      'MariaDB, og: DELETE': asDbOg('DELETE FROM initials'),
      'MariaDB, og: ALTER TABLE': asDbOg('ALTER TABLE batches ADD COLUMN x INT'),
      'MariaDB, og: TRUNCATE': asDbOg('TRUNCATE TABLE batches'),
      'MariaDB, og: DROP TABLE': asDbOg('DROP TABLE followups'),
      'MariaDB, og: the grant tables': asDbOg('SELECT user FROM mysql.user'),
      'MariaDB, og: another database': asDbOg('CREATE DATABASE og_other'),
    });
    console.log('refused:', told);
    expect(Object.entries(told).filter(([, message]) => !/NOAUTH|NOPERM|command denied|Access denied/.test(message))).toEqual([]);
  });

  it('the passwords are on no command line, in no server log and not in /metrics', async () => {
    const { secrets } = deployment;
    const passwords = [secrets.mariadbPassword, secrets.redisPassword, secrets.mariadbAdminPassword, secrets.redisAdminPassword];
    const leaks: string[] = [];
    const processes = (await fs.readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
    for (const pid of processes) {
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (passwords.some((password) => cmdline.includes(password))) leaks.push(`the command line of ${pid}: ${cmdline.replaceAll('\0', ' ')}`);
    }
    for (const server of deployment.api) {
      const log = await fs.readFile(server.logFile, 'utf8');
      if (passwords.some((password) => log.includes(password))) leaks.push(`${server.logFile}`);
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${deployment.adminToken}` } })).text();
      expect(metrics).toContain('http_requests_total');
      if (passwords.some((password) => metrics.includes(password))) leaks.push(`${server.url}/metrics`);
    }
    expect(processes.length).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
  });

  it("exact under load with no fault; no event's uuid crosses the network in clear text, but in the API's HTTP", async () => {
    // Everything between the test hosts but the API's HTTP, and (the control) the API's HTTP alone.
    const stores = await Capture.start(deployment.dir, 'stores', 'net 198.18.0.0/24 and not tcp port 5000');
    const api = await Capture.start(deployment.dir, 'api', 'net 198.18.0.0/24 and tcp port 5000');
    let capturedStores: Buffer;
    let capturedApi: Buffer;
    try {
      await underLoad('steady', async () => undefined);
    } finally {
      capturedStores = await stores.stop();
      capturedApi = await api.stop();
    }
    const uuids = [...new Set((await readClientLedgers(ledgers.filter((file) => path.basename(file).startsWith('steady-')))).requests.filter((entry) => entry.status === 200).map((entry) => entry.uuid))];
    // The search finds a uuid as MariaDB has it (16 bytes), and as HTTP and SQL text have it.
    const [first] = uuids as [string];
    expect([...uuidsFoundIn(Buffer.concat([Buffer.from('x'), Buffer.from(first.replaceAll('-', ''), 'hex'), Buffer.from('y')]), uuids)]).toEqual([first]);
    const inApi = uuidsFoundIn(capturedApi, uuids);
    const inStores = uuidsFoundIn(capturedStores, uuids);
    console.log(`capture: ${uuids.length} uuids acknowledged; the API's HTTP ${capturedApi.length} bytes, ${inApi.size} uuids in it; the stores' traffic ${capturedStores.length} bytes, ${inStores.size} uuids in it`);
    expect(inApi.size, 'uuids in the HTTP capture (the control: the search finds them in clear text)').toBeGreaterThan(uuids.length / 2);
    // The events went over it: MariaDB's and Galera's traffic is far more than the HTTP's.
    expect(capturedStores.length).toBeGreaterThan(capturedApi.length / 4);
    expect([...inStores].slice(0, 10), "uuids in clear text in the stores' traffic").toEqual([]);
  });

  it('an API host killed (kill -9 of every process on it), then started again', async () => {
    const [victim] = deployment.api;
    await underLoad('api-killed', async () => {
      await victim?.kill();
      await sleep(3_000);
      await victim?.start();
    });
  });

  it('an API host cut off from the network for 10 s', async () => {
    const host = deployment.api[1]?.host;
    await underLoad('api-cut-off', async () => {
      await host?.linkDown();
      await sleep(10_000);
      await host?.linkUp();
    });
  });

  it('an API host cut off from Redis alone for 15 s: the other hosts\' dashboards stay up, every answer exact', async () => {
    const [cut, healthy] = deployment.api as [ApiServer, ApiServer];
    let before: DashboardRead[] = [];
    let reads: DashboardRead[] = [];
    await underLoad('api-cut-off-from-redis', async () => {
      before = await readDashboards(healthy.url, Date.now() + 3000);
      await cut.host.cutOffFrom(REDIS_PORTS);
      reads = await readDashboards(healthy.url, Date.now() + 15_000);
      await cut.host.reconnect();
    });
    const ok = reads.filter((read) => read.status === 200).length;
    const latency = (of: DashboardRead[]) => {
      const ms = of.map((read) => read.answeredAt - read.askedAt).sort((x, y) => x - y);
      return `p50 ${ms[Math.floor(ms.length / 2)]} ms, max ${ms.at(-1)} ms`;
    };
    console.log(`cut off from Redis: ${healthy.url} answered ${ok} of ${reads.length} dashboard reads 200 (${latency(reads)}; in the 3 s before the cut ${latency(before)})`);
    expect(ok / reads.length, `dashboard reads of ${healthy.url} answered 200 (${ok} of ${reads.length})`).toBeGreaterThanOrEqual(0.99);
    const stored = await readExport(exportOverHttp(healthy.url, deployment.adminToken));
    expect(inexactReads(reads, await readClientLedgers(ledgers), stored).slice(0, 20), 'dashboards read during the cut').toEqual([]);
  });

  it('a Redis master killed: its replica is promoted', async () => {
    let killed: RedisNode | undefined;
    await underLoad('redis-master-killed', async () => {
      for (const node of deployment.redis) if (!killed && (await node.isMaster())) killed = node;
      await killed?.kill();
      await deployment.redisClusterOk(deployment.redis.filter((node) => node !== killed));
    });
    // It comes back as a replica of the one promoted.
    await killed?.start();
    await deployment.redisClusterOk();
    expect(await killed?.isMaster()).toBe(false);
  });

  it('the MariaDB primary killed: the database address moves to a standby', async () => {
    const [killed, standby] = deployment.galera as [GaleraNode, GaleraNode];
    await underLoad('mariadb-primary-killed', async () => {
      await killed.kill();
      await deployment.switchDatabase(standby);
    });
    expect(await standby.status('wsrep_cluster_size')).toBe('2');
  });

  it('a bad link between the API hosts and MariaDB: 1% of packets dropped, 512 kbit/s', async () => {
    await underLoad(
      'bad-database-link',
      () => deployment.degradeDatabaseLink(1, '512kbit'),
      async () => {
        // The fault was real: packets were dropped and the database's answers went through the throttle.
        const stats = await deployment.databaseLinkStats();
        console.log('bad link:', stats);
        expect(stats.dropped).toBeGreaterThan(0);
        expect(stats.sentBytes).toBeGreaterThan(100_000);
        expect(stats.overlimits, 'packets the throttle held back').toBeGreaterThan(0);
        await deployment.healDatabaseLink();
      },
    );
  });
});
