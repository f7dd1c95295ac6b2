// The load client's command line: options, wiring of the parts, and the exit code
// (0 done, 1 --verify found a difference, 2 could not start: bad options or no server).

import { parseArgs } from 'node:util';
import { systemClock } from '../interfaces/time.ts';
import { createHttpClient, NoAnswerError, type HttpClient } from './http.ts';
import { Ledger } from './ledger.ts';
import { englishLetters, textFileLetters, type LetterSource } from './letters.ts';
import { randomSeed } from './random.ts';
import { formatSummary, startProgress, type Output } from './report.ts';
import { runVirtualUsers } from './run.ts';
import { RunStats } from './stats.ts';
import { readBaseline, verifyRun, type Baseline } from './verify.ts';

const USAGE = `Usage: npm run client -- [options]

Sends the original client's traffic: for each symbol, POST /initial with a fresh uuid4, and
sometimes POST /followup when the server guessed right.

Options:
  --url URL            the server (default http://localhost:5000)
  --concurrency N      virtual users sending in parallel (default 1)
  --duration SECONDS   stop after this long
  --requests N         stop after N initials (with --duration: whichever comes first;
                       with neither, run until Ctrl-C)
  --seed TEXT          fixes letters, coins and uuids, so a run can be repeated (default random)
  --text FILE          cycle through the letters of FILE (default: English letter frequencies)
  --ledger FILE        write every request and its answer to FILE as NDJSON
  --verify             compare the dashboards with what the server acknowledged; exit 1 on any
                       difference (strict when the backend was empty at the start)
  -h, --help           show this help

Exit code: 0 done, 1 --verify found a difference, 2 bad options or server unreachable.
`;

const OPTIONS = {
  url: { type: 'string', default: 'http://localhost:5000' },
  concurrency: { type: 'string', default: '1' },
  duration: { type: 'string' },
  requests: { type: 'string' },
  seed: { type: 'string' },
  text: { type: 'string' },
  ledger: { type: 'string' },
  verify: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

interface ClientOptions {
  url: string;
  concurrency: number;
  durationSeconds: number | undefined;
  requests: number | undefined;
  seed: string | undefined;
  textFile: string | undefined;
  ledgerFile: string | undefined;
  verify: boolean;
  help: boolean;
}

class UsageError extends Error {}

function parseOptions(args: string[]): ClientOptions {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const url = values.url;
  if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) {
    throw new UsageError(`--url "${url}" is not an http:// or https:// URL`);
  }
  if (values.seed === '') throw new UsageError('--seed needs a value');
  return {
    url,
    concurrency: wholeNumber('--concurrency', values.concurrency),
    durationSeconds: values.duration === undefined ? undefined : positiveNumber('--duration', values.duration),
    requests: values.requests === undefined ? undefined : wholeNumber('--requests', values.requests),
    seed: values.seed,
    textFile: values.text,
    ledgerFile: values.ledger,
    verify: values.verify,
    help: values.help,
  };
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} "${text}" is not valid: use a whole number from 1`);
  return Number(text);
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} "${text}" is not valid: use a number of seconds above 0`);
  }
  return value;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** Aborted on Ctrl-C: stop sending, finish what is in flight, report. */
  interrupt: AbortSignal;
}

export async function runCli(args: string[], { stdout, stderr, interrupt }: CliIo): Promise<number> {
  let options: ClientOptions;
  try {
    options = parseOptions(args);
  } catch (error) {
    stderr.write(`${(error as Error).message}\nrun with --help for the options\n`);
    return 2;
  }
  if (options.help) {
    stdout.write(USAGE);
    return 0;
  }

  let letters: LetterSource = englishLetters;
  let ledger: Ledger | undefined;
  try {
    if (options.textFile !== undefined) letters = await textFileLetters(options.textFile);
    if (options.ledgerFile !== undefined) ledger = await Ledger.open(options.ledgerFile);
  } catch (error) {
    stderr.write(`cannot start: ${(error as Error).message}\n`);
    return 2;
  }

  const http = createHttpClient(options.url, options.concurrency);
  try {
    let baseline: Baseline | undefined;
    try {
      baseline = await checkServer(http, options.verify);
    } catch (error) {
      stderr.write(
        error instanceof NoAnswerError
          ? `cannot reach the server (${error.kind}): is the server running at ${options.url}? start it with npm start\n`
          : `the server at ${options.url} did not answer as expected: ${(error as Error).message}\n`,
      );
      return 2;
    }
    return await run({ options, http, letters, ledger, baseline }, { stdout, stderr, interrupt });
  } finally {
    await ledger?.close();
    http.close();
  }
}

/** Fails fast when nothing answers; with --verify this read is the baseline itself. */
async function checkServer(http: HttpClient, verify: boolean): Promise<Baseline | undefined> {
  if (verify) return readBaseline(http);
  await http.request('GET', '/dashboard/symbol/a');
  return undefined;
}

interface RunSetup {
  options: ClientOptions;
  http: HttpClient;
  letters: LetterSource;
  ledger: Ledger | undefined;
  /** The dashboards before the run, with --verify. */
  baseline: Baseline | undefined;
}

async function run({ options, http, letters, ledger, baseline }: RunSetup, { stdout, stderr, interrupt }: CliIo): Promise<number> {
  const seed = options.seed ?? randomSeed();
  const stop = new AbortController();
  const stopOnInterrupt = () => stop.abort('Ctrl-C');
  interrupt.addEventListener('abort', stopOnInterrupt, { once: true });
  if (interrupt.aborted) stopOnInterrupt(); // Ctrl-C came while the baseline was read
  const durationTimer = options.durationSeconds === undefined
    ? undefined
    : setTimeout(() => stop.abort(`--duration ${options.durationSeconds} s`), options.durationSeconds * 1000);
  const limits = [
    options.requests === undefined ? undefined : `${options.requests} initials`,
    options.durationSeconds === undefined ? undefined : `${options.durationSeconds} s`,
  ].filter((limit) => limit !== undefined);
  stderr.write(
    `sending to ${options.url}, ${options.concurrency} virtual user${options.concurrency === 1 ? '' : 's'}, seed ${seed}, ` +
      `${limits.length > 0 ? `until ${limits.join(' or ')}` : 'until Ctrl-C'}\n`,
  );

  const stats = new RunStats();
  const started = performance.now();
  const windowStart = systemClock();
  const stopProgress = startProgress(stats, stderr, started);
  try {
    await runVirtualUsers({ http, concurrency: options.concurrency, requests: options.requests, seed, letters, stats, ledger, stop: stop.signal });
  } finally {
    stopProgress();
    clearTimeout(durationTimer);
    interrupt.removeEventListener('abort', stopOnInterrupt);
  }
  const windowEnd = systemClock();

  stdout.write(formatSummary(stats, {
    url: options.url,
    concurrency: options.concurrency,
    seed,
    elapsedSeconds: (performance.now() - started) / 1000,
    stoppedBy: stop.signal.aborted ? String(stop.signal.reason) : `all ${options.requests} initials sent`,
  }));
  if (baseline === undefined) return 0;

  try {
    const verification = await verifyRun(
      http,
      baseline,
      { initials: stats.initialsByLetter, followups: stats.followupsByLetter },
      { window: { start: windowStart, end: windowEnd }, unanswered: stats.unanswered, seedGiven: options.seed !== undefined },
    );
    stdout.write(`${verification.report}\n`);
    return verification.ok ? 0 : 1;
  } catch (error) {
    stdout.write(`verify FAILED: could not read the dashboards after the run: ${(error as Error).message}\n`);
    return 1;
  }
}
