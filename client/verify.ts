// --verify: read the dashboards before and after the run and compare them with what the server
// acknowledged (200) during it. An empty backend at the start allows the strict check: absolute
// counts, the time window of earliest/latest, and the range dashboard over the run's window.

import { setTimeout as sleep } from 'node:timers/promises';
import { LETTERS, type Letter } from '../interfaces/contract.ts';
import { formatMicros, MICROS_PER_SECOND, parseTimestamp, type Micros } from '../interfaces/time.ts';
import { retryAfterSeconds, type HttpClient } from './http.ts';
import { formatTable } from './report.ts';

/** A symbol dashboard as the API prints it. */
export interface SymbolDashboard {
  count: number;
  symbol: Letter;
  earliest: string | null;
  latest: string | null;
  followups: number;
}

export interface Baseline {
  dashboards: SymbolDashboard[];
  /** No initial and no followup at all: everything found afterwards came from this run. */
  empty: boolean;
}

export interface Acknowledged {
  initials: Record<Letter, number>;
  followups: Record<Letter, number>;
}

export interface Difference {
  letter: Letter;
  check: string;
  expected: string;
  actual: string;
}

// Server clock and client clock may disagree a little; the API's range is half-open.
const WINDOW_MARGIN: Micros = MICROS_PER_SECOND;
const DASHBOARD_ATTEMPTS = 5;

export async function readBaseline(http: HttpClient): Promise<Baseline> {
  const dashboards = await readSymbolDashboards(http);
  return { dashboards, empty: dashboards.every((d) => d.count === 0 && d.followups === 0) };
}

async function readSymbolDashboards(http: HttpClient): Promise<SymbolDashboard[]> {
  return Promise.all(
    LETTERS.map(async (letter) => dashboardOf(letter, await getJson(http, `/dashboard/symbol/${letter}`))),
  );
}

async function readRangeDashboards(http: HttpClient, lower: Micros, upper: Micros): Promise<SymbolDashboard[]> {
  const path = `/dashboard/range/${encodeURIComponent(formatMicros(lower))}/${encodeURIComponent(formatMicros(upper))}`;
  const body = await getJson(http, path);
  if (!Array.isArray(body) || body.length !== LETTERS.length) {
    throw new Error(`GET ${path} did not answer an array of ${LETTERS.length} dashboards`);
  }
  return LETTERS.map((letter, i) => dashboardOf(letter, body[i]));
}

/** A dashboard read that honours 503 Retry-After a few times; anything but 200 JSON throws. */
async function getJson(http: HttpClient, path: string): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    const answer = await http.request('GET', path);
    if (answer.status === 200) return JSON.parse(answer.body);
    if (answer.status !== 503 || attempt === DASHBOARD_ATTEMPTS) {
      throw new Error(`GET ${path} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    }
    await sleep(retryAfterSeconds(answer.retryAfter) * 1000);
  }
}

function dashboardOf(letter: Letter, value: unknown): SymbolDashboard {
  const d = value as Partial<SymbolDashboard> | null;
  const isTimestamp = (t: unknown) => t === null || (typeof t === 'string' && parseTimestamp(t) !== undefined);
  if (
    d === null || typeof d !== 'object' || d.symbol !== letter || !Number.isInteger(d.count) ||
    !Number.isInteger(d.followups) || !isTimestamp(d.earliest) || !isTimestamp(d.latest)
  ) {
    throw new Error(`the dashboard of "${letter}" is not {count, symbol, earliest, latest, followups}: ${JSON.stringify(value)}`);
  }
  return d as SymbolDashboard;
}

export interface Comparison {
  before: SymbolDashboard[];
  after: SymbolDashboard[];
  acknowledged: Acknowledged;
  /** Strict check only: the run's time window (client clock) and the range dashboard over it. */
  strict?: { window: { start: Micros; end: Micros }; range: SymbolDashboard[] };
}

/** Every way the dashboards disagree with what was acknowledged; empty when they match. */
export function compareDashboards({ before, after, acknowledged, strict }: Comparison): Difference[] {
  const differences: Difference[] = [];
  const expect = (letter: Letter, check: string, expected: unknown, actual: unknown) => {
    if (expected !== actual) differences.push({ letter, check, expected: String(expected), actual: String(actual) });
  };
  LETTERS.forEach((letter, i) => {
    const [was, is] = [before[i]!, after[i]!];
    const [initials, followups] = [acknowledged.initials[letter], acknowledged.followups[letter]];
    // From an empty start the change is the absolute value, so this is also the strict count check.
    expect(letter, 'count change', initials, is.count - was.count);
    expect(letter, 'followups change', followups, is.followups - was.followups);
    if (!strict) return;
    const { start, end } = strict.window;
    for (const check of ['earliest', 'latest'] as const) {
      const text = is[check];
      if (initials === 0) expect(letter, check, null, text);
      else if (text === null || !(parseTimestamp(text)! >= start - WINDOW_MARGIN && parseTimestamp(text)! <= end + WINDOW_MARGIN)) {
        const bounds = `${formatMicros(start - WINDOW_MARGIN)} to ${formatMicros(end + WINDOW_MARGIN)}`;
        differences.push({ letter, check, expected: `within ${bounds}`, actual: String(text) });
      }
    }
    expect(letter, 'range count', initials, strict.range[i]!.count);
    expect(letter, 'range followups', followups, strict.range[i]!.followups);
  });
  return differences;
}

export interface Verification {
  ok: boolean;
  report: string;
}

export interface VerifyContext {
  /** The run's first send and last answer, client clock. */
  window: { start: Micros; end: Micros };
  /** Requests that got no answer: the server may have recorded some. */
  unanswered: number;
  /** An explicit --seed repeats its uuids in every run with it. */
  seedGiven: boolean;
}

export async function verifyRun(
  http: HttpClient, baseline: Baseline, acknowledged: Acknowledged, context: VerifyContext,
): Promise<Verification> {
  const { window } = context;
  const after = await readSymbolDashboards(http);
  const strict = baseline.empty
    ? { window, range: await readRangeDashboards(http, window.start - WINDOW_MARGIN, window.end + WINDOW_MARGIN) }
    : undefined;
  const differences = compareDashboards({ before: baseline.dashboards, after, acknowledged, strict });
  const initials = sum(acknowledged.initials);
  const followups = sum(acknowledged.followups);

  const lines: string[] = [];
  if (!baseline.empty) {
    const held = baseline.dashboards.reduce((total, d) => total + d.count, 0);
    lines.push(
      `delta-only check: the backend already held ${held} initials at the start, so earliest/latest and ` +
        'the range dashboard cannot be told apart from older events; only the change of count and ' +
        'followups per letter is compared.',
    );
  }
  if (differences.length === 0) {
    lines.push(`verified: ${initials} initials, ${followups} followups, all 26 letters match`);
    return { ok: true, report: lines.join('\n') };
  }

  const letters = new Set(differences.map((d) => d.letter)).size;
  lines.push(`verify FAILED: ${differences.length} differences in ${letters} letters (this run: ${initials} initials, ${followups} followups answered 200)`);
  lines.push(formatTable([['letter', 'check', 'expected', 'server says'], ...differences.map((d) => [d.letter, d.check, d.expected, d.actual])]));
  if (context.unanswered > 0) {
    lines.push(`${context.unanswered} requests got no answer; the server may have recorded some of them.`);
  }
  if (!baseline.empty) lines.push('Other clients writing to this backend during the run change the counts too.');
  if (context.seedGiven) {
    lines.push('A run with the same --seed before, against this backend, sent the same uuids: the server answers repeats but counts them once.');
  }
  return { ok: false, report: lines.join('\n') };
}

function sum(byLetter: Record<Letter, number>): number {
  return LETTERS.reduce((total, letter) => total + byLetter[letter], 0);
}
