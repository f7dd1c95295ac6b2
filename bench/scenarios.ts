// The requests each scenario sends, and one autocannon run of them. Latencies are recorded here from
// autocannon's 'response' events (fractions of a millisecond), since its own histogram keeps whole
// milliseconds only, too coarse for dashboards that answer in under one.

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { isVowel, parseGuess, shouldFollowUp } from '../client/judge.ts';
import { englishLetters } from '../client/letters.ts';
import type { Letter } from '../interfaces/contract.ts';
import { formatMicros, systemClock } from '../interfaces/time.ts';

export const INGEST_SCENARIOS = ['ingest', 'mix'] as const;
export const DASHBOARD_SCENARIOS = ['symbol', 'range-1h', 'range-1d', 'range-30d', 'series-1d-1h', 'series-30d-1d', 'series-30d-1h'] as const;
export type IngestScenario = (typeof INGEST_SCENARIOS)[number];
export type DashboardScenario = (typeof DASHBOARD_SCENARIOS)[number];
export type Scenario = IngestScenario | DashboardScenario;

const run = promisify(execFile);
const HOUR_MICROS = 3600 * 1_000_000;
/** Each window's length and, for a series, its interval. */
const WINDOWS: Record<Exclude<DashboardScenario, 'symbol'>, { micros: number; interval?: string }> = {
  'range-1h': { micros: HOUR_MICROS },
  'range-1d': { micros: 24 * HOUR_MICROS },
  'range-30d': { micros: 30 * 24 * HOUR_MICROS },
  'series-1d-1h': { micros: 24 * HOUR_MICROS, interval: '1h' },
  'series-30d-1d': { micros: 30 * 24 * HOUR_MICROS, interval: '1d' },
  'series-30d-1h': { micros: 30 * 24 * HOUR_MICROS, interval: '1h' },
};
/** The series' zone: one of whole hours with summer time, as most readers' (hours are whole buckets). */
const SERIES_TZ = 'Europe/Berlin';

const randomLetter = (): Letter => englishLetters(0, Math.random);

/** The range route's format with a `T` (no space to encode) and six fraction digits. */
const urlTime = (ts: number) => formatMicros(ts).replace(' ', 'T');

/** A GET of the scenario with a fresh letter, or a window ending now: no two requests alike. */
function dashboardPath(scenario: DashboardScenario): string {
  if (scenario === 'symbol') return `/dashboard/symbol/${randomLetter()}`;
  const now = systemClock();
  const { micros, interval } = WINDOWS[scenario];
  // A series reads a bound without offset in its zone: these are UTC.
  if (interval) return `/dashboard/series/${urlTime(now - micros)}Z/${urlTime(now)}Z?interval=${interval}&tz=${encodeURIComponent(SERIES_TZ)}`;
  return `/dashboard/range/${urlTime(now - micros)}/${urlTime(now)}`;
}

interface MixContext {
  uuid?: string;
  symbol?: Letter;
  followUp?: boolean;
}

/**
 * ingest: POST /initial, a fresh uuid and letter each time. mix: the original client, as a chain of
 * two requests per connection: the initial, then its followup when onResponse found the answer right
 * and the draw low enough; else setupRequest returns nothing and autocannon starts the chain again.
 */
function ingestRequests(scenario: IngestScenario, counts: { followups: number }): autocannon.Request[] {
  const initial: autocannon.Request = {
    method: 'POST',
    setupRequest: (request, context: MixContext) => {
      context.uuid = randomUUID();
      context.symbol = randomLetter();
      return { ...request, path: `/initial?uuid=${context.uuid}&symbol=${context.symbol}` };
    },
  };
  if (scenario === 'ingest') return [initial];
  initial.onResponse = (status, body, context: MixContext) => {
    const guess = parseGuess(body);
    context.followUp = status === 200 && guess !== undefined && shouldFollowUp(isVowel(context.symbol!, Math.random()), guess, Math.random());
  };
  const followup: autocannon.Request = {
    method: 'POST',
    setupRequest: (request, context: MixContext) => {
      if (!context.followUp) return undefined as unknown as autocannon.Request;
      counts.followups++;
      return { ...request, path: `/followup?uuid=${context.uuid}` };
    },
  };
  return [initial, followup];
}

export interface RunOptions {
  seconds: number;
  connections: number;
  /** Seconds a request may take before autocannon counts a timeout. */
  timeoutSeconds: number;
}

export interface Measurement {
  rps: number;
  p50_ms: number | null;
  p99_ms: number | null;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Responses per status code, e.g. { "200": 1234 }. */
  status_codes: Record<string, number>;
  seconds: number;
  /** mix: the share of followups among the requests sent. */
  followup_share?: number;
}

/** One autocannon run of `scenario` against `url`, in a process of its own (bench/loadgen.ts). */
export async function measureApart(url: string, scenario: Scenario, options: RunOptions): Promise<Measurement> {
  const args = [path.join(import.meta.dirname, 'loadgen.ts'), url, scenario, options.seconds, options.connections, options.timeoutSeconds].map(String);
  const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as Measurement;
}

/** One autocannon run of `scenario` against `url`, in this process. */
export async function measure(url: string, scenario: Scenario, options: RunOptions): Promise<Measurement> {
  const counts = { followups: 0 };
  const isIngest = (INGEST_SCENARIOS as readonly string[]).includes(scenario);
  const requests = isIngest
    ? ingestRequests(scenario as IngestScenario, counts)
    : [{ setupRequest: (request: autocannon.Request) => ({ ...request, path: dashboardPath(scenario as DashboardScenario) }) }];
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url, connections: options.connections, duration: options.seconds, timeout: options.timeoutSeconds, requests },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  await settle(url);
  latencies.sort((a, b) => a - b);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count ?? 0]));
  return {
    rps: result.requests.total / result.duration,
    p50_ms: percentile(latencies, 0.5),
    p99_ms: percentile(latencies, 0.99),
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    status_codes: statusCodes,
    seconds: result.duration,
    ...(scenario === 'mix' ? { followup_share: counts.followups / Math.max(1, result.requests.sent) } : {}),
  };
}

/**
 * Waits for the server to answer /healthz: autocannon leaves requests in flight when it stops, and a
 * SQLite server still works through them (its event loop blocked) before it reads anything newer.
 */
async function settle(url: string): Promise<void> {
  await (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(300_000) })).text();
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** One request alone: its milliseconds, or undefined when it took longer than `capMs`. */
export async function probe(url: string, scenario: DashboardScenario, capMs: number): Promise<number | undefined> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}${dashboardPath(scenario)}`, { signal: AbortSignal.timeout(capMs) });
    await response.text();
    if (!response.ok) throw new Error(`${scenario} answered ${response.status}`);
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return undefined;
    throw error;
  }
  return performance.now() - started;
}
