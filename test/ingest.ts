// The ledger of a fault test. `drive` sends initials (and some followups) over HTTP as
// `npm run client` does: a 503 is sent again after its Retry-After, an initial without an answer
// too (its uuid makes that safe), a followup without an answer is not (it may have been stored).
// Every request is recorded with its answer. `expectExact` then holds the service to the ledger:
// the raw export has exactly what was acknowledged, and every dashboard says what the export says.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { LedgerEntry } from '../client/ledger.ts';
import { LETTERS, type DataInterface, type Letter, type RawEvent } from '../interfaces/contract.ts';
import { Oracle } from '../interfaces/testing/oracle.ts';
import { formatMicros, parseTimestamp, type Micros } from '../interfaces/time.ts';

export type Route = 'initial' | 'followup';

/** One request and its answer. */
export interface Entry {
  route: Route;
  /** The server it was sent to (post() knows it; a client's ledger does not say). */
  url?: string;
  uuid: string;
  symbol: Letter;
  /** 200 or 503; null when no answer came (refused, reset, timed out). */
  status: 200 | 503 | null;
  /** The body, or why no answer came. */
  answer: string;
  /** A 503's Retry-After, in seconds. */
  retryAfter?: number;
  /** When it was sent and when its answer came (or it was given up), by Date.now(); `ms` between the two. */
  sentAt: number;
  answeredAt: number;
  ms: number;
}

export interface Ledger {
  /** Every request, in the order of their answers. */
  requests: Entry[];
  /** Every initial answered 200: the symbol sent and the guess answered. */
  initials: Map<string, { symbol: Letter; guess: boolean }>;
  /** Followups answered 200, per uuid. */
  followups: Map<string, number>;
  /** Followups that got no answer, per uuid: each may or may not be stored. */
  unanswered: Map<string, number>;
}

export function newLedger(): Ledger {
  return { requests: [], initials: new Map(), followups: new Map(), unanswered: new Map() };
}

const increment = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

/**
 * Sends one POST to `url` and records its answer in the ledger. Any status but 200, or 503 with
 * Retry-After, throws: the service promises nothing else to these requests.
 */
export async function post(ledger: Ledger, url: string, request: { route: Route; uuid: string; symbol: Letter }, timeoutMs = 30_000): Promise<Entry> {
  const { route, uuid, symbol } = request;
  const path = route === 'initial' ? `/initial?uuid=${uuid}&symbol=${symbol}` : `/followup?uuid=${uuid}`;
  const sentAt = Date.now();
  const timing = (answeredAt = Date.now()) => ({ sentAt, answeredAt, ms: answeredAt - sentAt });
  let entry: Entry;
  try {
    const response = await fetch(url + path, { method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
    const answer = await response.text();
    entry = { ...request, url, status: response.status as 200 | 503, answer, ...timing() };
    if (response.status === 503) {
      const retryAfter = response.headers.get('retry-after') ?? '';
      if (!/^\d+$/.test(retryAfter)) throw new Error(`POST ${path}: 503 without a Retry-After in seconds ("${retryAfter}"): ${answer}`);
      entry.retryAfter = Number(retryAfter);
    } else if (response.status !== 200) {
      throw new Error(`POST ${path}: ${response.status} ${answer}`);
    }
  } catch (error) {
    // fetch says TypeError for a refused or reset connection.
    if (!(error instanceof TypeError || (error as Error).name === 'TimeoutError')) throw error;
    const why = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `no answer (${String((error as Error).cause ?? error)})`;
    entry = { ...request, url, status: null, answer: why, ...timing() };
  }
  ledger.requests.push(entry);
  if (entry.status === 200 && route === 'initial' && !ledger.initials.has(uuid)) ledger.initials.set(uuid, { symbol, guess: entry.answer === 'True' });
  if (entry.status === 200 && route === 'followup') increment(ledger.followups, uuid);
  if (entry.status === null && route === 'followup') increment(ledger.unanswered, uuid);
  return entry;
}

// The client gives a request up after 30 s; an event it stored is stamped before then.
const CLIENT_TIMEOUT_MS = 30_000;

/** A ledger of what `npm run client -- --ledger FILE` wrote to `files` (one line per attempt). */
export async function readClientLedgers(files: readonly string[]): Promise<Ledger> {
  const ledger = newLedger();
  const entries: Entry[] = [];
  for (const file of files) {
    for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
      if (!line) continue;
      const written = JSON.parse(line) as LedgerEntry;
      const sentAt = (parseTimestamp(written.time) as Micros) / 1000;
      const route: Route = written.route === '/initial' ? 'initial' : 'followup';
      const answered = written.status === 200 || written.status === 503;
      entries.push({
        route,
        uuid: written.uuid,
        symbol: written.symbol,
        status: answered ? (written.status as 200 | 503) : null,
        answer: written.answer ?? written.error ?? '',
        sentAt,
        answeredAt: sentAt + (written.latency_ms ?? CLIENT_TIMEOUT_MS),
        ms: written.latency_ms ?? CLIENT_TIMEOUT_MS,
      });
      if (written.status !== null && !answered) throw new Error(`${file}: POST ${written.route} ${written.uuid} was answered ${written.status}: ${written.answer}`);
    }
  }
  for (const entry of entries.sort((a, b) => a.answeredAt - b.answeredAt)) {
    ledger.requests.push(entry);
    if (entry.status === 200 && entry.route === 'initial' && !ledger.initials.has(entry.uuid)) ledger.initials.set(entry.uuid, { symbol: entry.symbol, guess: entry.answer === 'True' });
    if (entry.status === 200 && entry.route === 'followup') increment(ledger.followups, entry.uuid);
    if (entry.status === null && entry.route === 'followup') increment(ledger.unanswered, entry.uuid);
  }
  return ledger;
}

/** The raw events as `GET url/events` gives them, for expectExact (`adminToken`: from another machine). */
export function exportOverHttp(url: string, adminToken?: string): Pick<DataInterface, 'exportEvents'> {
  return {
    async *exportEvents() {
      const response = await fetch(`${url}/events`, { headers: adminToken ? { authorization: `Bearer ${adminToken}` } : {} });
      if (!response.ok || !response.body) throw new Error(`GET ${url}/events: ${response.status} ${await response.text()}`);
      const lines = readline.createInterface({ input: Readable.fromWeb(response.body as WebReadableStream), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line) continue;
        const row = JSON.parse(line) as { type: 'initial' | 'followup'; uuid: string; symbol?: Letter; guess?: boolean; ts: string };
        const ts = parseTimestamp(row.ts) as Micros;
        yield (row.type === 'initial' ? { type: 'initial', uuid: row.uuid, symbol: row.symbol as Letter, guess: row.guess as boolean, ts } : { type: 'followup', uuid: row.uuid, ts }) satisfies RawEvent;
      }
    },
  };
}

export interface DriveOptions {
  /** Base URLs; requests rotate over them (several server instances). */
  urls: string[];
  initials: number;
  concurrency: number;
  /** Every n-th initial gets a followup. */
  followupEvery?: number;
  /** Called after each acknowledged initial of this drive, with their number so far (to inject faults mid-run). */
  onProgress?: (acknowledged: number) => void | Promise<void>;
  /** Record into this ledger (default: a new one). */
  ledger?: Ledger;
  /** A request without an answer after this long has none (default 30 s, as the client's). */
  timeoutMs?: number;
  /** Give up on a request not acknowledged after this long (default 60 s): a failure, not a fault ridden out. */
  retryForMs?: number;
  /** Stops sending new initials once aborted (a steady load of `initials: Infinity`). */
  signal?: AbortSignal;
}

// Retry-After says 1 or 2 s; the tests wait less, to stay short (the client waits the whole time).
const MAX_RETRY_WAIT_MS = 100;
// As the client: a server that refuses connections fails at once, so pause a little.
const PAUSE_AFTER_NO_ANSWER_MS = 100;

/** Runs the load; resolves with the ledger once every initial (and its followup) was sent. */
export async function drive(options: DriveOptions): Promise<Ledger> {
  const ledger = options.ledger ?? newLedger();
  const retryForMs = options.retryForMs ?? 60_000;
  let next = 0;
  let turn = 0;
  let acknowledged = 0;
  let failure: unknown;

  const send = async (route: Route, uuid: string, symbol: Letter): Promise<void> => {
    const giveUpAt = Date.now() + retryForMs;
    for (;;) {
      const url = options.urls[turn++ % options.urls.length] as string;
      const entry = await post(ledger, url, { route, uuid, symbol }, options.timeoutMs);
      if (entry.status === 200) return;
      // Sent again, a followup that was stored after all would count twice.
      if (entry.status === null && route === 'followup') return;
      if (Date.now() > giveUpAt) {
        throw new Error(`POST /${route} ${uuid} not acknowledged within ${retryForMs} ms; the last answer: ${entry.status ?? ''} ${entry.answer}`);
      }
      await sleep(entry.retryAfter === undefined ? PAUSE_AFTER_NO_ANSWER_MS : Math.min(entry.retryAfter * 1000, MAX_RETRY_WAIT_MS));
    }
  };
  const worker = async () => {
    try {
      while (next < options.initials && failure === undefined && !options.signal?.aborted) {
        const i = next++;
        const uuid = randomUUID();
        const symbol = LETTERS[i % 26] as Letter;
        await send('initial', uuid, symbol);
        await options.onProgress?.(++acknowledged);
        if (options.followupEvery && i % options.followupEvery === 0) await send('followup', uuid, symbol);
      }
    } catch (error) {
      failure ??= error; // the other workers stop too
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  if (failure !== undefined) throw failure;
  return ledger;
}

/** The requests sent at or after `since` (Date.now()) that took longer than `ms`, described. */
export function slowerThan(ledger: Ledger, ms: number, since = 0): string[] {
  return ledger.requests
    .filter((entry) => entry.ms > ms && entry.sentAt >= since)
    .map((entry) => `POST /${entry.route} ${entry.uuid}: ${entry.status ?? ''} ${entry.answer.slice(0, 80)} after ${Math.round(entry.ms)} ms`);
}

export interface Probe {
  status: number | null;
  retryAfter: string | null;
  body: string;
  ms: number;
}

/** One GET, timed; `status` null when no answer came within `timeoutMs`. */
export async function probe(url: string, timeoutMs = 30_000): Promise<Probe> {
  const started = performance.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body, ms: performance.now() - started };
  } catch (error) {
    return { status: null, retryAfter: null, body: (error as Error).message, ms: performance.now() - started };
  }
}

export interface DashboardProbe extends Probe {
  /** The initials of its letter acknowledged before it was asked: a 200 must count at least these. */
  acknowledged: number;
}

/** One GET of a letter's symbol dashboard, timed, with what the ledger had acknowledged of the letter by then. */
export async function probeDashboard(ledger: Ledger, url: string, letter: Letter): Promise<DashboardProbe> {
  const acknowledged = [...ledger.initials.values()].filter((initial) => initial.symbol === letter).length;
  return { ...(await probe(`${url}/dashboard/symbol/${letter}`)), acknowledged };
}

/** The raw events as the export gives them. */
export interface Stored {
  initials: Map<string, { symbol: Letter; guess: boolean; ts: Micros }>;
  /** The times of each uuid's followups. */
  followups: Map<string, Micros[]>;
  /** Initials stored twice, followups without an initial. */
  anomalies: string[];
}

/** The raw events as `data` exports them; `clockStepped`: the server's wall clock was stepped back meanwhile, so a followup may be stamped before its initial. */
export async function readExport(data: Pick<DataInterface, 'exportEvents'>, clockStepped = false): Promise<Stored> {
  const stored: Stored = { initials: new Map(), followups: new Map(), anomalies: [] };
  for await (const event of data.exportEvents()) {
    if (event.type === 'initial') {
      if (stored.initials.has(event.uuid)) stored.anomalies.push(`initial ${event.uuid} is stored twice`);
      stored.initials.set(event.uuid, { symbol: event.symbol, guess: event.guess, ts: event.ts });
    } else {
      if (!clockStepped && !stored.initials.has(event.uuid)) stored.anomalies.push(`followup ${event.uuid} is stored before (or without) its initial`);
      stored.followups.set(event.uuid, [...(stored.followups.get(event.uuid) ?? []), event.ts]);
    }
  }
  for (const uuid of stored.followups.keys()) if (clockStepped && !stored.initials.has(uuid)) stored.anomalies.push(`followup ${uuid} is stored without its initial`);
  return stored;
}

// The server's clock and this process's agree to about a millisecond (the same machine).
const CLOCK_SLACK_US = 5000;

/** Where the export and the ledger disagree, one line each. */
function differences(ledger: Ledger, stored: Stored, clockOffsetsUs: readonly number[]): string[] {
  const found = [...stored.anomalies];
  // The server stamps an event while it handles the request: a stored event lies within one of
  // its requests. "503 means nothing stored": within one that was not answered 503.
  const notRefused = new Map<string, Entry[]>();
  for (const entry of ledger.requests) {
    if (entry.status !== 503) notRefused.set(`${entry.route} ${entry.uuid}`, [...(notRefused.get(`${entry.route} ${entry.uuid}`) ?? []), entry]);
  }
  const storedBy = (route: Route, uuid: string, ts: Micros) =>
    (notRefused.get(`${route} ${uuid}`) ?? []).some((entry) => clockOffsetsUs.some((offset) => ts - offset >= entry.sentAt * 1000 - CLOCK_SLACK_US && ts - offset <= entry.answeredAt * 1000 + CLOCK_SLACK_US));
  const refused = (route: Route, uuid: string, ts: Micros) => {
    const refusal = ledger.requests.find((entry) => entry.route === route && entry.uuid === uuid && entry.status === 503);
    return `${route} ${uuid} was stored at ${formatMicros(ts)}, by none of its requests but those answered 503 (${refusal?.answer.slice(0, 100)})`;
  };

  const unansweredInitials = new Set(ledger.requests.filter((entry) => entry.route === 'initial' && entry.status === null).map((entry) => entry.uuid));
  for (const [uuid, sent] of ledger.initials) {
    const row = stored.initials.get(uuid);
    if (!row) found.push(`initial ${uuid} (${sent.symbol}) was acknowledged but is not stored`);
    else if (row.symbol !== sent.symbol || row.guess !== sent.guess) {
      found.push(`initial ${uuid} is stored as ${row.symbol} ${row.guess}, acknowledged as ${sent.symbol} ${sent.guess}`);
    }
  }
  for (const [uuid, row] of stored.initials) {
    // `npm run client` does not send again an initial that got no answer: it may or may not be stored.
    if (!ledger.initials.has(uuid) && !unansweredInitials.has(uuid)) found.push(`initial ${uuid} (${row.symbol}) is stored but was never acknowledged`);
    else if (!storedBy('initial', uuid, row.ts)) found.push(refused('initial', uuid, row.ts));
  }
  for (const uuid of new Set([...ledger.followups.keys(), ...ledger.unanswered.keys(), ...stored.followups.keys()])) {
    const [acknowledged, unanswered] = [ledger.followups.get(uuid) ?? 0, ledger.unanswered.get(uuid) ?? 0];
    const times = stored.followups.get(uuid) ?? [];
    if (times.length < acknowledged || times.length > acknowledged + unanswered) {
      found.push(`uuid ${uuid}: ${times.length} followups stored, ${acknowledged} acknowledged${unanswered ? ` and ${unanswered} unanswered` : ''}`);
    }
    for (const ts of times) if (!storedBy('followup', uuid, ts)) found.push(refused('followup', uuid, ts));
  }
  return found;
}

/** The dashboards the raw events call for, per letter, as the API prints them. */
function expectedDashboards(stored: Stored): Map<Letter, { count: number; symbol: Letter; earliest: string | null; latest: string | null; followups: number }> {
  const sums = new Map(LETTERS.map((letter) => [letter, { count: 0, followups: 0, lo: Infinity, hi: -Infinity }]));
  for (const [uuid, initial] of stored.initials) {
    const sum = sums.get(initial.symbol) as { count: number; followups: number; lo: number; hi: number };
    sum.count++;
    sum.followups += stored.followups.get(uuid)?.length ?? 0;
    sum.lo = Math.min(sum.lo, initial.ts);
    sum.hi = Math.max(sum.hi, initial.ts);
  }
  return new Map(
    [...sums].map(([symbol, sum]) => [
      symbol,
      { count: sum.count, symbol, earliest: sum.count ? formatMicros(sum.lo) : null, latest: sum.count ? formatMicros(sum.hi) : null, followups: sum.followups },
    ]),
  );
}

// A dashboard may answer 503 while the service catches up (a rebuild, a reconcile); only so long.
const CATCH_UP_MS = 20_000;

/** A dashboard's JSON once it answers 200; a 503 is asked again, until `until`. */
async function dashboard(url: string, until: number): Promise<unknown> {
  for (;;) {
    const answer = await probe(url, 10_000);
    if (answer.status === 200) return JSON.parse(answer.body);
    expect(answer.status, `GET ${url}: ${answer.body}`).toBe(503);
    expect(answer.retryAfter, `GET ${url}: 503 without a Retry-After in seconds`).toMatch(/^\d+$/);
    if (Date.now() > until) throw new Error(`GET ${url} still answered 503 after ${CATCH_UP_MS} ms: ${answer.body}`);
    await sleep(250);
  }
}

/**
 * Exact: (a) the raw export holds every acknowledged initial once, with the symbol sent and the
 * guess answered, and nothing else but initials that got no answer (0 or 1 each); for each uuid exactly its acknowledged followups (plus 0 or 1
 * for each that got no answer); no event stored by a request answered 503 (by its timestamp);
 * (b) on every URL, the 26 symbol dashboards and a range over all time say what the export says.
 * `data` is any interface instance on the same MariaDB; `clockOffsetsUs`, the offsets the server's
 * wall clock had from this process's while it stamped events (a test that steps it), default [0].
 */
export async function expectExact(ledger: Ledger, target: { urls: string[]; data: Pick<DataInterface, 'exportEvents'>; clockOffsetsUs?: readonly number[] }): Promise<void> {
  const stored = await readExport(target.data, target.clockOffsetsUs !== undefined);
  const found = differences(ledger, stored, target.clockOffsetsUs ?? [0]);
  expect.soft(found.slice(0, 20), `the raw export against the ledger: ${found.length} differences (the first 20)`).toEqual([]);

  const expected = expectedDashboards(stored);
  const until = Date.now() + CATCH_UP_MS;
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const series = seriesOf(stored);
  for (const url of target.urls) {
    for (const letter of LETTERS) {
      expect(await dashboard(`${url}/dashboard/symbol/${letter}`, until), `${url}/dashboard/symbol/${letter}`).toEqual(expected.get(letter));
    }
    const range = (await dashboard(`${url}/dashboard/range/2000-01-01/${tomorrow}`, until)) as unknown[];
    LETTERS.forEach((letter, i) => expect(range[i], `${url}/dashboard/range/2000-01-01/${tomorrow}, letter ${letter}`).toEqual(expected.get(letter)));
    const answer = (await dashboard(`${url}${series.path}`, until)) as { points: { count: number; followups: number }[] };
    expect(answer.points.map(({ count, followups }) => [count, followups]), `${url}${series.path}`).toEqual(series.expected);
  }
}

/**
 * The hours of yesterday to tomorrow (UTC) in Asia/Kathmandu, whose hours start at :15 past UTC's
 * (so their recent buckets are minutes): its path, and each point's count and followups as the raw
 * events have them.
 */
function seriesOf(stored: Stored): { path: string; expected: [number, number][] } {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const query = { lower: parseTimestamp(day(-1)) as Micros, upper: parseTimestamp(day(1)) as Micros, interval: '1h', tz: 'Asia/Kathmandu', symbol: null } as const;
  const oracle = new Oracle();
  for (const [uuid, { symbol, guess, ts }] of stored.initials) oracle.record({ type: 'initial', uuid, symbol, guess, ts });
  for (const [uuid, times] of stored.followups) for (const ts of times) oracle.record({ type: 'followup', uuid, ts });
  return {
    path: `/dashboard/series/${day(-1)}T00:00Z/${day(1)}T00:00Z?interval=1h&tz=Asia/Kathmandu`,
    expected: oracle.series(query).map(({ count, followups }) => [count, followups]),
  };
}
