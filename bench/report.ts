// The results: rows (one per run, plus one per load), the machine, and the spec's targets, written as
// bench/results/latest.json (the rows), machine.json, latest.md (tables) and the SVG charts.

import fsp from 'node:fs/promises';
import path from 'node:path';
import { dashboardChart, formatCount, ingestChart } from './charts.ts';
import type { Row } from './rows.ts';
import { DASHBOARD_SCENARIOS, INGEST_SCENARIOS } from './scenarios.ts';


export interface Machine {
  mode: 'full' | 'quick';
  /** The command as it was run, e.g. `npm run bench -- --quick`. */
  command: string;
  started_at: string;
  finished_at: string;
  cpus: number;
  cpu_model: string;
  memory_gb: number;
  os: string;
  node: string;
  mariadb: string | null;
  redis: string | null;
  load_average_start: number[];
  load_average_end: number[];
}

/** How the runs were set up, for the notes under the tables. */
export interface Settings {
  ingestSeconds: number;
  /** Ingest runs at each; the client mix at the first. */
  ingestConnections: number[];
  dashboardSeconds: number;
  dashboardConnections: number;
  warmupSeconds: number;
  sizes: number[];
  capSeconds: number;
  mariadbFlags: string;
  redisFlags: string;
}

const SPEC_10M = 10_000_000;

const fmt = (value: number | null | undefined, digits = 2): string => {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
};
export const formatCores = (cores: Record<string, number>, digits = 2) => Object.entries(cores).map(([name, used]) => `${name} ${used.toFixed(digits)}`).join(', ');
const perMillion = (value: number | undefined, events: number) => (value === undefined || events === 0 ? undefined : value / (events / 1e6));
const table = (header: string[], rows: string[][]) =>
  [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const find = (rows: readonly Row[], name: Row['interface'], scenario: Row['scenario'], events?: number, connections?: number) =>
  rows.find((r) => r.interface === name && r.scenario === scenario && (events === undefined || r.events === events) && (connections === undefined || r.connections === connections));
const cpuAll = (row: Row | undefined) => row?.cpu_us_per_request?.all;

export interface TargetCheck {
  what: string;
  target: string;
  measured: string;
  verdict: string;
  met: boolean | null;
}

/**
 * The targets (spec section 6 and the performance issue), judged on the mariadb-redis rows and the
 * reference rows; the 10M targets only when 10M was measured.
 */
export function checkTargets(rows: readonly Row[], settings: Pick<Settings, 'sizes' | 'ingestConnections'>): TargetCheck[] {
  const { sizes, ingestConnections } = settings;
  const checks: TargetCheck[] = [];
  const largest = Math.max(...sizes);
  const at10M = largest === SPEC_10M;
  const atLargest = `at ${formatCount(largest)}`;
  const [first, most] = [ingestConnections[0] as number, Math.max(...ingestConnections)];
  const check = (what: string, target: string, value: number | null | undefined, limit: number, unit: string, higherIsBetter = false, judged = true) => {
    const measured = value === null || value === undefined ? 'not measured' : `${fmt(value)} ${unit}`.trim();
    let verdict = 'n/a';
    let met: boolean | null = null;
    if (value !== null && value !== undefined && judged) {
      met = higherIsBetter ? value >= limit : value <= limit;
      const off = higherIsBetter ? 1 - value / limit : value / limit - 1;
      verdict = met ? 'met' : `missed by ${(off * 100).toFixed(0)}%`;
    } else if (!judged) {
      verdict = `n/a (largest N here: ${formatCount(largest)})`;
    }
    checks.push({ what, target, measured, verdict, met });
  };
  check(`\`null\` ingest vs a bare Express route, ${first} connections`, '≥ 0.8 ×', find(rows, 'null', 'ingest', 0, first)?.ratio_to_express, 0.8, '×', true);
  for (const connections of ingestConnections) {
    check(`ingest vs null, ${connections} connections`, '≥ 0.8 ×', find(rows, 'mariadb-redis', 'ingest', 0, connections)?.ratio_to_null, 0.8, '×', true);
  }
  const mix = find(rows, 'mariadb-redis', 'mix', 0, first);
  check(`mix vs null, ${first} connections`, '≥ 0.8 ×', mix?.ratio_to_null, 0.8, '×', true);
  for (const row of [find(rows, 'mariadb-redis', 'ingest', 0, first), mix]) {
    check(`${row?.scenario ?? 'ingest'}: p99, ${first} connections`, '≤ 25 ms', row?.p99_ms, 25, 'ms');
    check(`${row?.scenario ?? 'ingest'}: peak server RSS, ${first} connections`, '≤ 250 MB', row?.rss_mb, 250, 'MB');
  }
  check(`ingest: CPU per event, server + MariaDB + Redis, ${most} connections`, '≤ 70 µs', cpuAll(find(rows, 'mariadb-redis', 'ingest', 0, most)), 70, 'µs');
  for (const connections of ingestConnections) {
    const row = find(rows, 'mariadb-redis', 'ingest', 0, connections);
    check(`ingest vs the durable floor, ${connections} connections`, '≥ 0.8 ×', row?.ratio_to_floor, 0.8, '×', true);
    check(`ingest: CPU per event vs the durable floor's, ${connections} connections`, '≤ 1.25 ×', row?.cpu_ratio_to_floor, 1.25, '×');
  }
  const symbol = find(rows, 'mariadb-redis', 'symbol', largest);
  const symbolSmall = find(rows, 'mariadb-redis', 'symbol', Math.min(...sizes));
  check(`symbol p99 ${atLargest}`, '≤ 5 ms at 10M', symbol?.p99_ms, 5, 'ms', false, at10M);
  check(`symbol CPU per request, all processes, ${atLargest}`, '≤ 150 µs at 10M', cpuAll(symbol), 150, 'µs', false, at10M);
  const growth = symbol?.p50_ms && symbolSmall?.p50_ms ? symbol.p50_ms / symbolSmall.p50_ms : undefined;
  check(`symbol p50 ${atLargest} / p50 at ${formatCount(Math.min(...sizes))}`, '≤ 1.5 ×', growth, 1.5, '×', false, at10M);
  for (const scenario of ['range-1h', 'range-1d', 'range-30d'] as const) {
    const row = find(rows, 'mariadb-redis', scenario, largest);
    check(`${scenario} p99 ${atLargest}`, '≤ 20 ms at 10M', row?.p99_ms, 20, 'ms', false, at10M);
    check(`${scenario} CPU per request, all processes, ${atLargest}`, '≤ 500 µs at 10M', cpuAll(row), 500, 'µs', false, at10M);
  }
  for (const [scenario, p99] of [['series-1d-1h', 10], ['series-30d-1d', 10], ['series-30d-1h', 20]] as const) {
    const row = find(rows, 'mariadb-redis', scenario, largest);
    check(`${scenario} p99 ${atLargest}`, `≤ ${p99} ms at 10M`, row?.p99_ms, p99, 'ms', false, at10M);
    check(`${scenario} CPU per request, all processes, ${atLargest}`, '≤ 1,000 µs at 10M', cpuAll(row), 1000, 'µs', false, at10M);
  }
  check(`range-1d req/s ${atLargest}`, '≥ 1,500 req/s at 10M', find(rows, 'mariadb-redis', 'range-1d', largest)?.rps, 1500, 'req/s', true, at10M);
  check(`loader, ${formatCount(largest)} events`, '≤ 180 s for 10M', find(rows, 'mariadb-redis', 'load', largest)?.load_s, 180, 's', false, at10M);
  return checks;
}

export async function writeResults(dir: string, rows: readonly Row[], machine: Machine, settings: Settings): Promise<string[]> {
  await fsp.mkdir(dir, { recursive: true });
  const files = {
    json: path.join(dir, 'latest.json'),
    machine: path.join(dir, 'machine.json'),
    md: path.join(dir, 'latest.md'),
    ingest: path.join(dir, 'ingest.svg'),
    dashboards: path.join(dir, 'dashboards.svg'),
  };
  await fsp.writeFile(files.json, `${JSON.stringify(rows, null, 2)}\n`);
  await fsp.writeFile(files.machine, `${JSON.stringify({ ...machine, settings }, null, 2)}\n`);
  await fsp.writeFile(files.ingest, ingestChart(rows));
  await fsp.writeFile(files.dashboards, dashboardChart(rows));
  await fsp.writeFile(files.md, markdown(rows, machine, settings));
  return Object.values(files);
}

function markdown(rows: readonly Row[], machine: Machine, settings: Settings): string {
  const interfaces = [...new Set(rows.filter((r) => !r.interface.startsWith('bare ')).map((r) => r.interface))];
  const largest = Math.max(...settings.sizes);
  const invalid = rows.filter((r) => r.valid === false);
  const latency = (r: Row | undefined) => (r ? `${fmt(r.p50_ms)} / ${fmt(r.p99_ms)}` : '–');
  const dashboardCell = (r: Row | undefined) => (!r ? '–' : r.rps === null ? (r.note ?? 'not run') : latency(r));
  const cpuCell = (r: Row | undefined) => (r?.cpu_us_per_request ? `${fmt(r.cpu_us_per_request.all, 0)} (${formatCores(r.cpu_us_per_request, 0)})` : '–');
  const out: string[] = [];

  out.push(
    '# Benchmark results',
    '',
    `\`${machine.command}\` (${machine.mode} run), ${machine.started_at} to ${machine.finished_at}. ` +
      `Machine: ${machine.cpus} cores (${machine.cpu_model}), ${machine.memory_gb} GB, ${machine.os}, Node ${machine.node}, ` +
      `MariaDB ${machine.mariadb ?? '–'}, Redis ${machine.redis ?? '–'}; load average at start ${machine.load_average_start.map((l) => l.toFixed(2)).join(' ')}, ` +
      `at the end ${machine.load_average_end.map((l) => l.toFixed(2)).join(' ')}. ` +
      'Client (autocannon), server and backends share this machine.',
    '',
    invalid.length === 0
      ? 'Every run answered 2xx only: no non-2xx response, error or timeout.'
      : `**${invalid.length} run(s) had non-2xx responses, errors or timeouts: their figures are not valid** (see the details).`,
    '',
    '## Headline',
    '',
    `Ingest (${settings.ingestSeconds} s per run): POST /initial at ${settings.ingestConnections.join(' and ')} connections, the client mix at ${settings.ingestConnections[0]}; ` +
      'requests per second, p50 / p99 latency (ms), ratio to `null`, to a bare Express route and to the durable floor (node:http and group commit into the same MariaDB: ' +
      'what any durable ingest pays; the same-work floor adds to it what mariadb-redis does for an initial, each part at its cheapest: ' +
      'validation, one initial per uuid, a batch log, the aggregates in Redis exactly once) in the same run and connections, CPU microseconds per request and its ratio to the floor\'s ' +
      '(all processes: server, and for mariadb-redis MariaDB and Redis, for elasticsearch the node\'s JVM; the load generator is a process of its own, not counted), peak server RSS.',
    '',
    table(
      ['server', 'scenario', 'connections', 'rps', 'p50 / p99', '× null', '× bare Express', '× durable floor', 'CPU µs per request', 'CPU × floor', 'peak RSS (MB)'],
      rows
        .filter((r) => (INGEST_SCENARIOS as readonly string[]).includes(r.scenario))
        .map((r) => [
          `\`${r.interface}\``, r.scenario, `${r.connections ?? '–'}`, fmt(r.rps), latency(r), fmt(r.ratio_to_null), fmt(r.ratio_to_express), fmt(r.ratio_to_floor), cpuCell(r), fmt(r.cpu_ratio_to_floor), fmt(r.rss_mb),
        ]),
    ),
    '',
    `Dashboards with ${formatCount(largest)} stored events (${settings.dashboardConnections} connections): requests per second, p50 / p99 latency (ms), CPU µs per request.`,
    '',
    table(
      ['interface', 'scenario', 'rps', 'p50 / p99', 'CPU µs per request'],
      interfaces.filter((name) => rows.some((r) => r.interface === name && (DASHBOARD_SCENARIOS as readonly string[]).includes(r.scenario))).flatMap((name) =>
        DASHBOARD_SCENARIOS.map((scenario) => {
          const r = find(rows, name, scenario, largest);
          return [`\`${name}\``, scenario, fmt(r?.rps), dashboardCell(r), cpuCell(r)];
        }),
      ),
    ),
    '',
    '![ingest](ingest.svg)',
    '',
    '![dashboards](dashboards.svg)',
    '',
    '## Targets (spec section 6 and the performance issue; `mariadb-redis` unless named)',
    '',
    table(['what', 'target', 'measured', 'verdict'], checkTargets(rows, settings).map((c) => [c.what, c.target, c.measured, c.verdict])),
    '',
    '## Loader and resources',
    '',
    'Loaded through each interface\'s bulk path, `loadEvents`: sqlite one transaction per 10k events; mariadb-redis batches of 10k events ' +
      '(each committed to MariaDB, then applied to Redis, as requests are) from two writers on two partitions. ' +
      '`npm run verify` after each mariadb-redis load, `npm run rebuild` (then verify again) at the largest N; their times are the whole npm command\'s, Node start-up included.',
    '',
    table(
      ['interface', 'events', 'load (s)', 'events/s', 'Redis used_memory MB (per 1M)', 'MariaDB data MB (per 1M)', 'SQLite file MB (per 1M)', 'verify (s, per 1M)', 'rebuild (s, per 1M)'],
      rows.filter((r) => r.scenario === 'load').map((r) => [
        `\`${r.interface}\``, formatCount(r.events), fmt(r.load_s, 1), fmt(r.events_per_s),
        r.redis_used_memory_mb === undefined ? '–' : `${fmt(r.redis_used_memory_mb)} (${fmt(perMillion(r.redis_used_memory_mb, r.events))})`,
        r.mariadb_data_mb === undefined ? '–' : `${fmt(r.mariadb_data_mb)} (${fmt(perMillion(r.mariadb_data_mb, r.events))})`,
        r.sqlite_file_mb === undefined ? '–' : `${fmt(r.sqlite_file_mb)} (${fmt(perMillion(r.sqlite_file_mb, r.events))})`,
        r.verify_ok === undefined ? '–' : `${r.verify_ok ? 'pass' : '**FAIL**'}, ${fmt(r.verify_s, 1)} (${fmt(perMillion(r.verify_s, r.events), 1)})`,
        r.rebuild_s === undefined ? '–' : `${r.rebuild_ok ? 'ok' : '**FAIL**'}, ${fmt(r.rebuild_s, 1)} (${fmt(perMillion(r.rebuild_s, r.events), 1)}); verify after: ${r.verify_after_rebuild_ok ? 'pass' : '**FAIL**'}`,
      ]),
    ),
    '',
    '## Raw export',
    '',
    'GET /events read to its end by one client, counting lines; the server\'s peak RSS while it streams (at constant memory, it should not grow with N).',
    '',
    table(
      ['interface', 'events', 'lines', 'seconds', 'events/s', 'MB sent', 'peak server RSS (MB)'],
      rows.filter((r) => r.scenario === 'export').map((r) => [
        `\`${r.interface}\``, formatCount(r.events), fmt(r.export_lines), fmt(r.export_s, 1), fmt(r.events_per_s), fmt(r.export_mb), fmt(r.rss_mb),
      ]),
    ),
    '',
    '## All runs',
    '',
    table(
      ['server', 'scenario', 'stored events', 'connections', 'probe (ms)', 'rps', 'p50 (ms)', 'p99 (ms)', 'peak RSS (MB)', 'cores used', 'CPU µs per request', 'requests', 'non-2xx', 'errors / timeouts', 'note'],
      rows.filter((r) => r.scenario !== 'load' && r.scenario !== 'export').map((r) => [
        `\`${r.interface}\``, r.scenario, formatCount(r.events), `${r.connections ?? '–'}`, fmt(r.probe_ms), fmt(r.rps), fmt(r.p50_ms), fmt(r.p99_ms), fmt(r.rss_mb),
        r.cpu_cores ? formatCores(r.cpu_cores) : '–', cpuCell(r),
        fmt(r.requests), r.non2xx === undefined ? '–' : `${r.non2xx}${r.non2xx > 0 ? ` (${JSON.stringify(r.status_codes)})` : ''}`,
        r.errors === undefined ? '–' : `${r.errors} / ${r.timeouts}`,
        [r.note, r.followup_share === undefined ? undefined : `followups ${(r.followup_share * 100).toFixed(1)}% of requests`].filter(Boolean).join('; '),
      ]),
    ),
    '',
    '## How it was measured',
    '',
    `- Each interface's server runs as \`npm start\` runs it (\`server/main.ts\` with its Node flags) in its own process (one worker, request logs off), started by the bench on a free port with fresh throwaway backends. ` +
      'The reference servers (bench/reference-server.ts) answer POST /initial with a bare node:http handler and a bare Express route, with the same Node flags. ' +
      'Each autocannon run is a process of its own (bench/loadgen.ts), so the bench does not share its event loop.',
    `- ingest: POST /initial, a fresh uuid and a letter (English frequencies) per request. mix: the original client as an autocannon request chain: ` +
      'the initial, then its followup when the answer was right and a uniform draw is below 0.1 (vowel) or 0.2 (consonant), "y" judged with the client\'s own coin.',
    `- Dashboards: symbol (a random letter per request) and range windows of 1 h, 1 day and 30 days ending at the moment of each request, over N events spread over the 30 days before the load. ` +
      `${settings.dashboardSeconds} s per run after ${settings.warmupSeconds} s of warm-up.`,
    `- A dashboard is run only while one request alone (the probe) answers within ${settings.capSeconds} s; once it does not, that scenario is capped for larger N (the note says so). ` +
      'When one request alone is too slow for each connection to get three answers in a run, the run uses one connection for at least three answers (more connections would only queue behind each other); the connections column says which.',
    '- p50 and p99 are computed from every 2xx response\'s latency (autocannon \'response\' events, sub-millisecond), rps = responses / run time. ' +
      'Cores used: CPU time of each process during the run over its length (/proc/PID/stat); the machine has ' + `${machine.cpus}, the client included. ` +
      'CPU µs per request: each process\'s CPU time over the requests answered, and all of them together.',
    `- MariaDB: ${settings.mariadbFlags}. Redis: ${settings.redisFlags}.`,
    '',
  );
  return out.join('\n');
}
