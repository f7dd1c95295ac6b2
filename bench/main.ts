// `npm run bench`: every interface side by side, on this machine, with autocannon; `--help` for the
// choices (--quick, and any part: sizes, scenarios, interfaces). The full run writes bench/results/
// (latest.md, latest.json, machine.json, SVG charts); any other run writes a folder of its own under
// bench/results/runs/, so the full run's results stay. Prints a line per step. Exits non-zero when the
// harness fails, a verify fails, or a run got anything but 2xx answers (its figures would not be
// valid); --quick never judges a speed.

import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { INTERFACE_NAMES, type InterfaceName, type InterfaceOptions } from '../interfaces/index.ts';
import { systemClock } from '../interfaces/time.ts';
import { formatCount } from './charts.ts';
import { loadStore } from './load.ts';
import { formatCores, writeResults, type Machine, type Settings } from './report.ts';
import type { Row } from './rows.ts';
import { MB, mariadbDataBytes, redisUsedMemory, sampleCpu, sampleRss, sqliteFileBytes } from './resources.ts';
import { DASHBOARD_SCENARIOS, INGEST_SCENARIOS, measureApart, probe, type DashboardScenario, type Scenario } from './scenarios.ts';
import { dropStore, freshStore, MARIADB_SETTINGS, runTool, startBackends, startReference, startServer, type AppServer, type Backends, type ReferenceKind } from './servers.ts';

// The servers inherit it, as under the production systemd unit.
process.env.NODE_ENV = 'production';

const RESULTS_DIR = path.join(import.meta.dirname, 'results');
const SCENARIO_GROUPS = ['ingest', 'dashboards'] as const;
type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

const USAGE = `Usage: npm run bench -- [options]

  --quick                  the CI-sized run: seconds per run, N = 10k and 100k; judges no speed
  --sizes N,N,...          stored events for the dashboards (default 10000,100000,1000000,10000000)
  --scenarios LIST         ingest, dashboards (default both; dashboards include load, verify, export)
  --interfaces LIST        ${INTERFACE_NAMES.join(', ')} (default all)
  -h, --help               show this help

The full run (no option) takes about 55 minutes and writes bench/results/. Any other run writes
bench/results/runs/<time>-<choices>/ instead, e.g. in minutes:
  npm run bench -- --sizes 10000,1000000 --scenarios ingest,dashboards --interfaces mariadb-redis
`;

// --quick caps at 1 s, so that CI also goes through the capped path and stays within minutes.
const PLANS: Record<'full' | 'quick', Omit<Settings, 'mariadbFlags' | 'redisFlags'>> = {
  full: { ingestSeconds: 60, ingestConnections: [32, 256], dashboardSeconds: 10, dashboardConnections: 4, warmupSeconds: 3, sizes: [1e4, 1e5, 1e6, 1e7], capSeconds: 10 },
  quick: { ingestSeconds: 3, ingestConnections: [32, 256], dashboardSeconds: 1, dashboardConnections: 4, warmupSeconds: 0.5, sizes: [1e4, 1e5], capSeconds: 1 },
};

const startedAt = performance.now();
function log(message: string): void {
  const seconds = (performance.now() - startedAt) / 1000;
  console.log(`[${String(Math.floor(seconds / 60)).padStart(3)}:${(seconds % 60).toFixed(1).padStart(4, '0')}] ${message}`);
}

const REFERENCES = ['node-http', 'express'] as const satisfies readonly ReferenceKind[];

/** Microseconds of CPU per request of each process, and of all together. */
function cpuPerRequest(cores: Record<string, number>, rps: number): Record<string, number> {
  const perRequest = Object.fromEntries(Object.entries(cores).map(([name, used]) => [name, rps > 0 ? (used * 1e6) / rps : 0]));
  return { ...perRequest, all: Object.values(perRequest).reduce((sum, us) => sum + us, 0) };
}

const ms = (value: number | null | undefined) => (value === null || value === undefined ? '–' : `${value.toFixed(2)} ms`);

class Bench {
  readonly rows: Row[] = [];
  /** Per interface and dashboard scenario: the N at which one request first took over the cap. */
  private readonly capped = new Map<string, number>();

  private readonly backends: Backends;
  private readonly settings: Settings;
  private readonly interfaces: readonly InterfaceName[];

  constructor(backends: Backends, settings: Settings, interfaces: readonly InterfaceName[]) {
    this.backends = backends;
    this.settings = settings;
    this.interfaces = interfaces;
  }

  /** A measured run against `server` with its peak RSS; the row says whether every answer was 2xx. */
  private async run(server: AppServer, name: Row['interface'], scenario: Scenario, events: number, seconds: number, connections: number, timeoutSeconds: number): Promise<Row> {
    const rss = sampleRss(server.pid);
    const stores =
      name === 'mariadb-redis' || name === 'mariadb-redis TLS' ? { mariadb: this.backends.mariadb?.pid, redis: this.backends.redis?.pid }
        : name === 'durable floor' ? { mariadb: this.backends.mariadb?.pid }
          : name === 'same-work floor' ? { mariadb: this.backends.mariadb?.pid, redis: this.backends.redis?.pid }
          : name === 'elasticsearch' ? { elasticsearch: this.backends.elasticsearch?.pid } : {};
    const cpu = sampleCpu({ server: server.pid, ...stores });
    let rssMb = 0;
    let cores: Record<string, number> = {};
    const result = await measureApart(server.url, scenario, { seconds, connections, timeoutSeconds }).finally(() => {
      rssMb = rss.stop();
      cores = cpu.stop();
    });
    server.assertRunning();
    const row: Row = {
      interface: name, scenario, events, ...result, rss_mb: rssMb, cpu_cores: cores, cpu_us_per_request: cpuPerRequest(cores, result.rps), connections,
      valid: result.non2xx === 0 && result.errors === 0 && result.timeouts === 0,
    };
    log(
      `  ${name} ${scenario}${events ? ` @${formatCount(events)}` : ''}: ${Math.round(result.rps)} rps, p50 ${ms(result.p50_ms)}, p99 ${ms(result.p99_ms)}, ` +
        `peak RSS ${row.rss_mb!.toFixed(0)} MB, cores ${formatCores(cores)}, CPU µs per request ${formatCores(row.cpu_us_per_request!, 0)}` +
        `${row.valid ? '' : `, NOT VALID: ${result.non2xx} non-2xx ${JSON.stringify(result.status_codes)}, ${result.errors} errors, ${result.timeouts} timeouts`}`,
    );
    this.rows.push(row);
    return row;
  }

  /** The reference servers, then each interface: ingest at every connection count, the client mix at the first. */
  async ingest(): Promise<void> {
    const { ingestSeconds, ingestConnections, warmupSeconds } = this.settings;
    const runs = ingestConnections.flatMap((connections, i) => INGEST_SCENARIOS.filter((scenario) => i === 0 || scenario === 'ingest').map((scenario) => ({ scenario, connections })));
    const measureAll = async (server: AppServer, name: Row['interface'], scenarios: typeof runs) => {
      const ran: Row[] = [];
      for (const { scenario, connections } of scenarios) {
        await measureApart(server.url, scenario, { seconds: warmupSeconds, connections, timeoutSeconds: 10 });
        ran.push(await this.run(server, name, scenario, 0, ingestSeconds, connections, 10));
      }
      return ran;
    };
    for (const kind of REFERENCES) {
      log(`ingest: bare ${kind} reference`);
      const server = await startReference(this.backends, kind);
      try {
        await measureAll(server, `bare ${kind}`, runs.filter((run) => run.scenario === 'ingest'));
      } finally {
        await server.stop();
      }
    }
    if (this.backends.mariadb) {
      log('ingest: the durable floor (node:http, group commit into MariaDB)');
      const store = await freshStore(this.backends, 'mariadb-redis', 'floor');
      try {
        const server = await startReference(this.backends, 'durable-floor', store);
        try {
          await measureAll(server, 'durable floor', runs);
        } finally {
          await server.stop();
        }
      } finally {
        await dropStore(this.backends, store);
      }
      log('ingest: the same-work floor (the durable floor plus what mariadb-redis does for an initial, at its cheapest)');
      const sameWork = await freshStore(this.backends, 'mariadb-redis', 'same_work');
      try {
        const server = await startReference(this.backends, 'same-work-floor', sameWork);
        try {
          await measureAll(server, 'same-work floor', runs.filter((run) => run.scenario === 'ingest'));
        } finally {
          await server.stop();
        }
      } finally {
        await dropStore(this.backends, sameWork);
      }
    }
    // mariadb-redis twice: as on one machine, and with TLS to both stores (over loopback: what TLS
    // itself costs, without a network's).
    const variants = this.interfaces.flatMap<{ name: InterfaceName; row: Row['interface']; tls: boolean }>((name) =>
      name === 'mariadb-redis' ? [{ name, row: name, tls: false }, { name, row: 'mariadb-redis TLS', tls: true }] : [{ name, row: name, tls: false }],
    );
    for (const { name, row: rowName, tls } of variants) {
      log(`ingest: ${rowName}`);
      const store = await freshStore(this.backends, name, tls ? 'ingest_tls' : 'ingest', tls);
      try {
        const server = await startServer(this.backends, store);
        let ran: Row[] = [];
        try {
          ran = await measureAll(server, rowName, runs);
        } finally {
          await server.stop();
        }
        if (name === 'mariadb-redis') {
          const verify = await runTool('verify', store);
          log(`  npm run verify after the ingest runs: ${verify.ok ? 'pass' : 'FAIL'} in ${verify.seconds.toFixed(1)} s: ${verify.summary}`);
          for (const row of ran) Object.assign(row, { verify_ok: verify.ok, verify_s: verify.seconds, verify_summary: verify.summary, note: `verify after the ingest runs: ${verify.ok ? 'pass' : 'FAIL'}` });
        }
      } finally {
        await dropStore(this.backends, store);
      }
    }
    const same = (name: Row['interface'], row: Row) => this.rows.find((r) => r.interface === name && r.scenario === row.scenario && r.connections === row.connections);
    for (const row of this.rows) {
      const [ceiling, express, floor] = [same('null', row)?.rps, same('bare express', row)?.rps, same('durable floor', row)];
      if (ceiling) row.ratio_to_null = row.rps! / ceiling;
      if (express) row.ratio_to_express = row.rps! / express;
      if (floor?.rps && ['mariadb-redis', 'mariadb-redis TLS', 'elasticsearch', 'same-work floor'].includes(row.interface)) {
        row.ratio_to_floor = row.rps! / floor.rps;
        if (floor.cpu_us_per_request?.all && row.cpu_us_per_request?.all) row.cpu_ratio_to_floor = row.cpu_us_per_request.all / floor.cpu_us_per_request.all;
      }
    }
  }

  async dashboards(n: number): Promise<void> {
    const end = systemClock();
    for (const name of this.interfaces) {
      if (DASHBOARD_SCENARIOS.every((scenario) => this.capped.has(`${name} ${scenario}`))) {
        log(`dashboards @${formatCount(n)}: ${name} skipped, every scenario capped at a smaller N`);
        for (const scenario of DASHBOARD_SCENARIOS) this.cappedRow(name, scenario, n);
        continue;
      }
      const store = await freshStore(this.backends, name, `n${n}`);
      try {
        await this.load(store, n, end);
        await this.measureDashboards(store, n);
      } finally {
        await dropStore(this.backends, store);
      }
    }
  }

  private cappedRow(name: InterfaceName, scenario: DashboardScenario, n: number): void {
    const at = this.capped.get(`${name} ${scenario}`) ?? n;
    this.rows.push({ interface: name, scenario, events: n, rps: null, p50_ms: null, p99_ms: null, probe_ms: null, note: `capped: one request took over ${this.settings.capSeconds} s at ${formatCount(at)}` });
  }

  private async load(store: InterfaceOptions, n: number, end: number): Promise<void> {
    if (store.name === 'null') return;
    log(`load: ${store.name}, ${formatCount(n)} events`);
    const seconds = await loadStore(store, n, end, (loaded, s) => log(`  ${formatCount(loaded)} events in ${s.toFixed(1)} s (${Math.round(loaded / s).toLocaleString('en-US')}/s)`));
    const row: Row = { interface: store.name, scenario: 'load', events: n, rps: null, p50_ms: null, p99_ms: null, load_s: seconds, events_per_s: n / seconds };
    log(`  loaded ${formatCount(n)} events in ${seconds.toFixed(1)} s (${Math.round(n / seconds).toLocaleString('en-US')} events/s)`);
    this.rows.push(row);
    if (store.name === 'sqlite') {
      row.sqlite_file_mb = sqliteFileBytes(store.sqlitePath) / MB;
      return;
    }
    if (store.name === 'elasticsearch') return; // no verify or rebuild: the index is the only copy
    row.redis_used_memory_mb = (await redisUsedMemory(this.backends.redis!)) / MB;
    row.mariadb_data_mb = (await mariadbDataBytes(store.mariadbUrl)) / MB;
    log(`  Redis used_memory ${row.redis_used_memory_mb.toFixed(1)} MB, MariaDB data ${row.mariadb_data_mb.toFixed(1)} MB`);
    const verify = await runTool('verify', store);
    Object.assign(row, { verify_ok: verify.ok, verify_s: verify.seconds, verify_summary: verify.summary });
    log(`  npm run verify: ${verify.ok ? 'pass' : 'FAIL'} in ${verify.seconds.toFixed(1)} s: ${verify.summary}`);
    if (n === Math.max(...this.settings.sizes)) {
      const rebuild = await runTool('rebuild', store);
      log(`  npm run rebuild: ${rebuild.ok ? 'ok' : 'FAIL'} in ${rebuild.seconds.toFixed(1)} s: ${rebuild.summary}`);
      const again = await runTool('verify', store);
      log(`  npm run verify after the rebuild: ${again.ok ? 'pass' : 'FAIL'} in ${again.seconds.toFixed(1)} s`);
      Object.assign(row, { rebuild_ok: rebuild.ok, rebuild_s: rebuild.seconds, verify_after_rebuild_ok: again.ok });
    }
  }

  private async measureDashboards(store: InterfaceOptions, n: number): Promise<void> {
    const { dashboardSeconds, dashboardConnections: connections, warmupSeconds, capSeconds } = this.settings;
    log(`dashboards @${formatCount(n)}: ${store.name}`);
    let server = await startServer(this.backends, store);
    try {
      for (const scenario of DASHBOARD_SCENARIOS) {
        const key = `${store.name} ${scenario}`;
        if (this.capped.has(key)) {
          this.cappedRow(store.name, scenario, n);
          continue;
        }
        const probeMs = await probe(server.url, scenario, capSeconds * 1000);
        if (probeMs === undefined) {
          this.capped.set(key, n);
          this.cappedRow(store.name, scenario, n);
          log(`  ${key} @${formatCount(n)}: one request took over ${capSeconds} s: capped from here on`);
          // The server may still be busy with that request (SQLite blocks its event loop).
          await server.stop();
          server = await startServer(this.backends, store);
          continue;
        }
        // Too slow for each connection to get three answers in a run: then one connection, no warm-up,
        // for at least three answers (more connections would only queue behind each other in SQLite).
        const slow = 3 * probeMs * connections > dashboardSeconds * 1000;
        if (!slow) await measureApart(server.url, scenario, { seconds: warmupSeconds, connections, timeoutSeconds: 10 });
        const seconds = slow ? Math.max(dashboardSeconds, Math.ceil((3 * probeMs) / 1000)) : dashboardSeconds;
        const row = await this.run(server, store.name, scenario, n, seconds, slow ? 1 : connections, 3 * capSeconds);
        row.probe_ms = probeMs;
        if (store.name === 'null') row.note = 'null stores nothing: the HTTP ceiling';
      }
      await this.measureExport(server, store.name, n);
    } finally {
      await server.stop();
    }
  }

  /** GET /events read to its end: lines, time, and the server's peak RSS while it streams. */
  private async measureExport(server: AppServer, name: InterfaceName, n: number): Promise<void> {
    const rss = sampleRss(server.pid);
    const started = performance.now();
    let [lines, bytes] = [0, 0];
    try {
      const response = await fetch(`${server.url}/events`);
      if (!response.ok) throw new Error(`GET /events answered ${response.status}: ${await response.text()}`);
      for await (const chunk of response.body!) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      }
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const row: Row = {
        interface: name, scenario: 'export', events: n, rps: null, p50_ms: null, p99_ms: null,
        export_s: seconds, export_lines: lines, export_mb: bytes / MB, events_per_s: lines / seconds, rss_mb: rss.stop(),
      };
      this.rows.push(row);
      log(`  ${name} GET /events @${formatCount(n)}: ${lines} lines, ${(bytes / MB).toFixed(0)} MB in ${seconds.toFixed(1)} s, peak RSS ${row.rss_mb!.toFixed(0)} MB`);
    }
  }
}

/** What a run must have produced for its results to stand; also --quick's assertions. */
function harnessProblems(rows: readonly Row[], { interfaces, scenarios, sizes }: Choices): string[] {
  const problems: string[] = [];
  const ingest = scenarios.includes('ingest');
  for (const kind of ingest ? REFERENCES : []) {
    if (!rows.some((r) => r.interface === `bare ${kind}` && (r.rps ?? 0) > 0)) problems.push(`no bare ${kind} reference result`);
  }
  if (ingest && interfaces.includes('mariadb-redis') && !rows.some((r) => r.interface === 'durable floor' && (r.rps ?? 0) > 0)) problems.push('no durable floor result');
  for (const scenario of ingest && interfaces.includes('mariadb-redis') ? INGEST_SCENARIOS : []) {
    if (!rows.some((r) => r.interface === 'mariadb-redis TLS' && r.scenario === scenario && (r.rps ?? 0) > 0)) problems.push(`no mariadb-redis TLS ${scenario} result`);
  }
  for (const name of interfaces) {
    for (const scenario of ingest ? INGEST_SCENARIOS : []) {
      if (!rows.some((r) => r.interface === name && r.scenario === scenario && (r.rps ?? 0) > 0)) problems.push(`no ${name} ${scenario} result`);
    }
    for (const n of scenarios.includes('dashboards') ? sizes : []) {
      for (const scenario of DASHBOARD_SCENARIOS) {
        if (!rows.some((r) => r.interface === name && r.scenario === scenario && r.events === n && ((r.rps ?? 0) > 0 || r.note?.startsWith('capped')))) {
          problems.push(`no ${name} ${scenario} result at ${formatCount(n)}`);
        }
      }
      const exported = rows.find((r) => r.interface === name && r.scenario === 'export' && r.events === n);
      const expectedLines = name === 'null' ? 0 : n;
      if (exported && exported.export_lines !== expectedLines) problems.push(`${name} GET /events @${formatCount(n)}: ${exported.export_lines} lines, not ${expectedLines}`);
      if (name !== 'null' && !rows.some((r) => r.interface === name && r.scenario === 'load' && r.events === n) && !rows.some((r) => r.interface === name && r.events === n && r.note?.startsWith('capped'))) {
        problems.push(`no ${name} load at ${formatCount(n)}`);
      }
    }
  }
  for (const row of rows) {
    if (row.verify_ok === false || row.verify_after_rebuild_ok === false || row.rebuild_ok === false) problems.push(`${row.interface} ${row.scenario} @${formatCount(row.events)}: verify or rebuild failed: ${row.verify_summary ?? ''}`);
    if (row.valid === false) problems.push(`${row.interface} ${row.scenario} @${formatCount(row.events)}: ${row.non2xx} non-2xx, ${row.errors} errors, ${row.timeouts} timeouts`);
  }
  return problems;
}

async function versions(backends: Backends): Promise<{ mariadb: string | null; redis: string | null }> {
  let mariadb: string | null = null;
  if (backends.mariadb) {
    const connection = await mysql.createConnection(backends.mariadb.url);
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
    mariadb = String(rows[0]?.v);
    await connection.end();
  }
  const redis = backends.redis ? (/^redis_version:(\S+)/m.exec(await backends.redis.command('INFO', 'server'))?.[1] ?? null) : null;
  return { mariadb, redis };
}

/** What to run: the plan, and the parts of it chosen. */
interface Choices {
  mode: 'full' | 'quick';
  interfaces: readonly InterfaceName[];
  scenarios: readonly ScenarioGroup[];
  sizes: number[];
  /** The whole full run: its results are the committed ones. */
  whole: boolean;
}

/** A comma-separated list of `allowed` values; every one, in `allowed`'s order, when not given. */
function listOf<T extends string>(flag: string, text: string | undefined, allowed: readonly T[]): T[] {
  if (text === undefined) return [...allowed];
  const given = text.split(',').filter(Boolean);
  const unknown = given.filter((item) => !(allowed as readonly string[]).includes(item));
  if (given.length === 0 || unknown.length > 0) throw new UsageError(`${flag} "${text}": use a comma-separated list of ${allowed.join(', ')}`);
  return allowed.filter((item) => given.includes(item));
}

class UsageError extends Error {}

function parseCli(args: string[]): Choices | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { quick: { type: 'boolean', default: false }, interfaces: { type: 'string' }, scenarios: { type: 'string' }, sizes: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const mode = values.quick ? 'quick' : 'full';
  const sizes = values.sizes === undefined ? PLANS[mode].sizes : values.sizes.split(',').map(Number);
  if (sizes.length === 0 || !sizes.every((n) => Number.isInteger(n) && n > 0)) throw new UsageError(`--sizes "${values.sizes}": use a comma-separated list of whole numbers above 0`);
  return {
    mode,
    interfaces: listOf('--interfaces', values.interfaces, INTERFACE_NAMES),
    scenarios: listOf('--scenarios', values.scenarios, SCENARIO_GROUPS),
    sizes,
    whole: mode === 'full' && values.interfaces === undefined && values.scenarios === undefined && values.sizes === undefined,
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const choices = parseCli(args);
  if (choices === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { mode, interfaces, scenarios } = choices;
  const settings: Settings = {
    ...PLANS[mode],
    sizes: choices.sizes,
    mariadbFlags: `innodb_buffer_pool_size=${MARIADB_SETTINGS.innodbBufferPoolSize}, ${MARIADB_SETTINGS.extraArgs.map((a) => a.replace(/^--/, '').replace(/-/g, '_')).join(', ')}, no binary log (the test server's defaults otherwise)`,
    redisFlags: 'redis-server defaults without persistence (no AOF, no RDB snapshots), as the test servers run it: lost rollups are rebuilt from MariaDB',
  };
  const started = new Date();
  const loadStart = os.loadavg();
  log(`bench (${mode}): ${scenarios.join(', ')} of ${interfaces.join(', ')}; N = ${settings.sizes.map(formatCount).join(', ')}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
  const backends = await startBackends(interfaces.includes('mariadb-redis'), interfaces.includes('elasticsearch'));
  const bench = new Bench(backends, settings, interfaces);
  const problems: string[] = [];
  let machine: Machine | undefined;
  try {
    log(`backends up${backends.mariadb ? `: MariaDB ${backends.mariadb.url}, Redis ${backends.redis?.url}` : ''}`);
    machine = {
      mode,
      command: ['npm run bench', ...(args.length > 0 ? ['--', ...args] : [])].join(' '),
      started_at: started.toISOString(),
      finished_at: '',
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      memory_gb: Math.round(os.totalmem() / 1024 ** 3),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      ...(await versions(backends)),
      load_average_start: loadStart,
      load_average_end: [],
    };
    if (scenarios.includes('ingest')) await bench.ingest();
    if (scenarios.includes('dashboards')) for (const n of settings.sizes) await bench.dashboards(n);
  } catch (error) {
    problems.push(`the harness failed: ${(error as Error).stack ?? error}`);
  } finally {
    await backends.stop();
  }
  problems.push(...harnessProblems(bench.rows, choices));
  if (machine) {
    machine.finished_at = new Date().toISOString();
    machine.load_average_end = os.loadavg();
    // Only the whole full run replaces the committed results; any other run keeps its own.
    const choice = [mode, ...(choices.whole ? [] : [scenarios.join('+'), interfaces.join('+'), settings.sizes.map(formatCount).join('+')])].join('-');
    const dir = choices.whole ? RESULTS_DIR : path.join(RESULTS_DIR, 'runs', `${started.toISOString().replace(/[:.]/g, '-')}-${choice}`);
    const files = await writeResults(dir, bench.rows, machine, settings);
    log(`wrote ${files.map((file) => path.relative(process.cwd(), file)).join(', ')}`);
  }
  for (const problem of problems) console.error(`bench: ${problem}`);
  log(problems.length === 0 ? 'done' : `done with ${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: ${(error as Error).message}${error instanceof UsageError ? '\nrun with --help for the choices' : ''}`);
    process.exit(2);
  },
);
