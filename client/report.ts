// What the user sees: a live progress line on a terminal (stderr) and the summary (stdout).

import type { RunStats } from './stats.ts';

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

const PROGRESS_INTERVAL_MS = 250;
// The req/s shown live is over the last second, so it follows the server's current speed.
const RATE_WINDOW_TICKS = 4;

/** Rewrites one status line on a terminal until the returned function is called; no-op otherwise. */
export function startProgress(stats: RunStats, output: Output, startedAt = performance.now()): () => void {
  if (!output.isTTY) return () => {};
  const samples = [{ at: startedAt, attempts: 0 }];
  const timer = setInterval(() => {
    const now = performance.now();
    samples.push({ at: now, attempts: stats.attempts });
    if (samples.length > RATE_WINDOW_TICKS + 1) samples.shift();
    const oldest = samples[0]!;
    const rate = now > oldest.at ? ((stats.attempts - oldest.attempts) * 1000) / (now - oldest.at) : 0;
    output.write(`\r\x1b[2K${progressLine(stats, (now - startedAt) / 1000, rate)}`);
  }, PROGRESS_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    output.write('\r\x1b[2K');
  };
}

export function progressLine(stats: RunStats, elapsedSeconds: number, requestsPerSecond: number): string {
  return [
    `${elapsedSeconds.toFixed(1)} s`,
    `initials ${integer(stats.initials)}`,
    `followups ${integer(stats.followups)}`,
    `${integer(requestsPerSecond)} req/s`,
    `errors ${integer(stats.errors)}`,
  ].join('  |  ');
}

export interface SummaryContext {
  url: string;
  concurrency: number;
  seed: string;
  elapsedSeconds: number;
  stoppedBy: string;
}

export function formatSummary(stats: RunStats, context: SummaryContext): string {
  const { latency } = stats;
  const seconds = context.elapsedSeconds;
  const rows = [['route', 'status', 'requests']];
  for (const [route, byOutcome] of stats.outcomes) {
    for (const [outcome, count] of [...byOutcome].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push([route, outcome, integer(count)]);
    }
  }
  const milliseconds = (value: number) => value.toFixed(2);
  const facts = [
    ['requests per second', `${integer(seconds > 0 ? stats.attempts / seconds : 0)} (${integer(stats.attempts)} requests in ${seconds.toFixed(2)} s)`],
    [
      'latency ms',
      latency.count === 0
        ? 'no answers'
        : `p50 ${milliseconds(latency.percentileMs(50))}  p95 ${milliseconds(latency.percentileMs(95))}  ` +
          `p99 ${milliseconds(latency.percentileMs(99))}  max ${milliseconds(latency.maxMs)}`,
    ],
    ['retries', `${integer(stats.retries)} (503 with Retry-After, same uuid)`],
    ['errors', `${integer(stats.errors)}${stats.unanswered > 0 ? ` (${integer(stats.unanswered)} without an answer)` : ''}`],
  ];
  if (stats.unexpectedGuesses > 0) {
    facts.push(['unexpected answers', `${integer(stats.unexpectedGuesses)} initials answered 200 with neither True nor False`]);
  }
  return [
    `summary: ${integer(stats.initials)} initials and ${integer(stats.followups)} followups answered 200; stopped: ${context.stoppedBy}`,
    `  ${context.url}, concurrency ${context.concurrency}, seed ${context.seed} (repeat with --seed ${context.seed})`,
    '',
    formatTable(rows, [2]),
    '',
    formatTable(facts),
    '',
  ].join('\n');
}

/** Rows as aligned columns, indented; the columns listed are aligned right (numbers). */
export function formatTable(rows: string[][], rightAligned: number[] = []): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      '  ' + row
        .map((cell, column) => (rightAligned.includes(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function integer(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
