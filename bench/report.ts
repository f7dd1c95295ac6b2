// The results: rows (one per run, plus one per load), the machine, and the spec's targets, written as
// bench/results/latest.json (the rows), machine.json, latest.md (tables) and the SVG charts.

import fsp from 'node:fs/promises';
import path from 'node:path';
import type { InterfaceName } from '../interfaces/index.ts';
import { dashboardChart, formatCount, ingestChart } from './charts.ts';
import type { Measurement, Scenario } from './scenarios.ts';

export interface Row extends Partial<Omit<Measurement, 'rps' | 'p50_ms' | 'p99_ms'>> {
  interface: InterfaceName;
  scenario: Scenario | 'load';
  /** Events stored when the run started; for a load row, the events loaded. */
  events: number;
  rps: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  /** Peak server RSS during the run. */
  rss_mb?: number;
  /** Cores each process used on average during the run: server, and for mariadb-redis mariadb and redis. */
  cpu_cores?: Record<string, number>;
  /** ingest and mix: rps / null's rps in the same scenario. */
  ratio_to_null?: number;
  /** Dashboards: one request alone before the run; null when it took longer than the cap. */
  probe_ms?: number | null;
  connections?: number;
  /** Every response 2xx, no error or timeout. */
  valid?: boolean;
  note?: string;
  // load rows
  load_s?: number;
  events_per_s?: number;
  redis_used_memory_mb?: number;
  mariadb_data_mb?: number;
  sqlite_file_mb?: number;
  verify_ok?: boolean;
  verify_s?: number;
  verify_summary?: string;
  rebuild_ok?: boolean;
  rebuild_s?: number;
  verify_after_rebuild_ok?: boolean;
}

export interface Machine {
  mode: 'full' | 'quick';
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
  ingestConnections: number;
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
export const formatCores = (cores: Record<string, number>) => Object.entries(cores).map(([name, used]) => `${name} ${used.toFixed(2)}`).join(', ');
const perMillion = (value: number | undefined, events: number) => (value === undefined || events === 0 ? undefined : value / (events / 1e6));
const table = (header: string[], rows: string[][]) =>
  [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const find = (rows: readonly Row[], name: InterfaceName, scenario: Row['scenario'], events?: number) =>
  rows.find((r) => r.interface === name && r.scenario === scenario && (events === undefined || r.events === events));

export interface TargetCheck {
  what: string;
  target: string;
  measured: string;
  verdict: string;
  met: boolean | null;
}

/** Spec section 6, judged on the mariadb-redis rows; the 10M targets only when 10M was measured. */
export function checkTargets(rows: readonly Row[], sizes: number[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const largest = Math.max(...sizes);
  const at10M = largest === SPEC_10M;
  const atLargest = `at ${formatCount(largest)}`;
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
  for (const scenario of ['ingest', 'mix'] as const) {
    const row = find(rows, 'mariadb-redis', scenario);
    check(`${scenario}: rps vs null`, '≥ 0.8 ×', row?.ratio_to_null, 0.8, '×', true);
    check(`${scenario}: p99`, '≤ 25 ms', row?.p99_ms, 25, 'ms');
    check(`${scenario}: peak server RSS`, '≤ 250 MB', row?.rss_mb, 250, 'MB');
  }
  const symbol = find(rows, 'mariadb-redis', 'symbol', largest);
  const symbolSmall = find(rows, 'mariadb-redis', 'symbol', Math.min(...sizes));
  check(`symbol p99 ${atLargest}`, '≤ 5 ms at 10M', symbol?.p99_ms, 5, 'ms', false, at10M);
  const growth = symbol?.p50_ms && symbolSmall?.p50_ms ? symbol.p50_ms / symbolSmall.p50_ms : undefined;
  check(`symbol p50 ${atLargest} / p50 at ${formatCount(Math.min(...sizes))}`, '≤ 1.5 ×', growth, 1.5, '×', false, at10M);
  for (const scenario of ['range-1h', 'range-1d', 'range-30d'] as const) {
    check(`${scenario} p99 ${atLargest}`, '≤ 20 ms at 10M', find(rows, 'mariadb-redis', scenario, largest)?.p99_ms, 20, 'ms', false, at10M);
  }
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
  const interfaces = [...new Set(rows.map((r) => r.interface))];
  const largest = Math.max(...settings.sizes);
  const invalid = rows.filter((r) => r.valid === false);
  const latency = (r: Row | undefined) => (r ? `${fmt(r.p50_ms)} / ${fmt(r.p99_ms)}` : '–');
  const dashboardCell = (r: Row | undefined) => (!r ? '–' : r.rps === null ? (r.note ?? 'not run') : latency(r));
  const out: string[] = [];

  out.push(
    '# Benchmark results',
    '',
    `\`npm run bench${machine.mode === 'quick' ? ' -- --quick' : ''}\` (${machine.mode} run), ${machine.started_at} to ${machine.finished_at}. ` +
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
    `Ingest (${settings.ingestSeconds} s per run, ${settings.ingestConnections} connections): requests per second, p50 / p99 latency (ms), ratio to \`null\`, peak server RSS.`,
    '',
    table(
      ['interface', 'ingest rps', 'ingest p50 / p99', '× null', 'mix rps', 'mix p50 / p99', '× null', 'peak RSS (MB)'],
      interfaces.map((name) => {
        const ingest = find(rows, name, 'ingest');
        const mix = find(rows, name, 'mix');
        return [
          `\`${name}\``, fmt(ingest?.rps), latency(ingest), fmt(ingest?.ratio_to_null), fmt(mix?.rps), latency(mix), fmt(mix?.ratio_to_null),
          fmt(Math.max(ingest?.rss_mb ?? 0, mix?.rss_mb ?? 0)),
        ];
      }),
    ),
    '',
    `Dashboards with ${formatCount(largest)} stored events (${settings.dashboardConnections} connections): p50 / p99 latency (ms).`,
    '',
    table(
      ['interface', 'symbol', 'range 1 h', 'range 1 day', 'range 30 days'],
      interfaces.map((name) => [`\`${name}\``, ...(['symbol', 'range-1h', 'range-1d', 'range-30d'] as const).map((s) => dashboardCell(find(rows, name, s, largest)))]),
    ),
    '',
    '![ingest](ingest.svg)',
    '',
    '![dashboards](dashboards.svg)',
    '',
    '## Spec section 6 targets (`mariadb-redis`)',
    '',
    table(['what', 'target', 'measured', 'verdict'], checkTargets(rows, settings.sizes).map((c) => [c.what, c.target, c.measured, c.verdict])),
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
    '## All runs',
    '',
    table(
      ['interface', 'scenario', 'stored events', 'connections', 'probe (ms)', 'rps', 'p50 (ms)', 'p99 (ms)', 'peak RSS (MB)', 'cores used', 'requests', 'non-2xx', 'errors / timeouts', 'note'],
      rows.filter((r) => r.scenario !== 'load').map((r) => [
        `\`${r.interface}\``, r.scenario, formatCount(r.events), `${r.connections ?? '–'}`, fmt(r.probe_ms), fmt(r.rps), fmt(r.p50_ms), fmt(r.p99_ms), fmt(r.rss_mb),
        r.cpu_cores ? formatCores(r.cpu_cores) : '–',
        fmt(r.requests), r.non2xx === undefined ? '–' : `${r.non2xx}${r.non2xx > 0 ? ` (${JSON.stringify(r.status_codes)})` : ''}`,
        r.errors === undefined ? '–' : `${r.errors} / ${r.timeouts}`,
        [r.note, r.followup_share === undefined ? undefined : `followups ${(r.followup_share * 100).toFixed(1)}% of requests`].filter(Boolean).join('; '),
      ]),
    ),
    '',
    '## How it was measured',
    '',
    `- Each interface's server is \`server/main.ts\` in its own Node process (one worker, request logs off), started by the bench on a free port with fresh throwaway backends; autocannon runs in the bench process.`,
    `- ingest: POST /initial, a fresh uuid and a letter (English frequencies) per request. mix: the original client as an autocannon request chain: ` +
      'the initial, then its followup when the answer was right and a uniform draw is below 0.1 (vowel) or 0.2 (consonant), "y" judged with the client\'s own coin.',
    `- Dashboards: symbol (a random letter per request) and range windows of 1 h, 1 day and 30 days ending at the moment of each request, over N events spread over the 30 days before the load. ` +
      `${settings.dashboardSeconds} s per run after ${settings.warmupSeconds} s of warm-up.`,
    `- A dashboard is run only while one request alone (the probe) answers within ${settings.capSeconds} s; once it does not, that scenario is capped for larger N (the note says so). ` +
      'When one request alone is too slow for each connection to get three answers in a run, the run uses one connection for at least three answers (more connections would only queue behind each other); the connections column says which.',
    '- p50 and p99 are computed from every 2xx response\'s latency (autocannon \'response\' events, sub-millisecond), rps = responses / run time. ' +
      'Cores used: CPU time of each process during the run over its length (/proc/PID/stat); the machine has ' + `${machine.cpus}, the client included.`,
    `- MariaDB: ${settings.mariadbFlags}. Redis: ${settings.redisFlags}.`,
    '',
  );
  return out.join('\n');
}
