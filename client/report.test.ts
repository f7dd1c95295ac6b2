import { describe, expect, it } from 'vitest';
import { formatSummary, formatTable, startProgress } from './report.ts';
import { RunStats } from './stats.ts';

function someStats(): RunStats {
  const stats = new RunStats();
  for (let i = 0; i < 10; i++) {
    stats.recordAnswer('/initial', 200, 1 + i);
    stats.recordAcknowledged('/initial', 'e');
  }
  stats.recordAnswer('/initial', 503, 0.5);
  stats.retries++;
  stats.recordNoAnswer('/followup', 'ECONNRESET');
  return stats;
}

describe('formatSummary', () => {
  it('gives totals per route and status, rate, latency percentiles, retries and errors', () => {
    const summary = formatSummary(someStats(), { url: 'http://localhost:5000', concurrency: 2, seed: '7', elapsedSeconds: 2, stoppedBy: 'Ctrl-C' });
    expect(summary).toContain('10 initials and 0 followups answered 200; stopped: Ctrl-C');
    expect(summary).toMatch(/\/initial\s+200\s+10\n/);
    expect(summary).toMatch(/\/initial\s+503\s+1\n/);
    expect(summary).toMatch(/\/followup\s+ECONNRESET\s+1\n/);
    expect(summary).toMatch(/requests per second\s+6 \(12 requests in 2\.00 s\)/);
    // The histogram answers within 1/64 above the exact value (here 5 ms).
    expect(summary).toMatch(/latency ms\s+p50 5\.0\d {2}p95 10\.00 {2}p99 10\.00 {2}max 10\.00/);
    expect(summary).toMatch(/retries\s+1 /);
    expect(summary).toMatch(/errors\s+1 \(1 without an answer\)/);
    expect(summary).toContain('--seed 7');
  });
});

describe('formatTable', () => {
  it('aligns columns, numbers to the right', () => {
    expect(formatTable([['a', 'n'], ['long', '1,000'], ['b', '7']], [1])).toBe('  a         n\n  long  1,000\n  b         7');
  });
});

describe('startProgress', () => {
  it('writes nothing when the output is not a terminal', async () => {
    const writes: string[] = [];
    const stop = startProgress(someStats(), { write: (text: string) => writes.push(text) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop();
    expect(writes).toEqual([]);
  });

  it('rewrites one line on a terminal, and clears it when stopped', async () => {
    const writes: string[] = [];
    const stop = startProgress(someStats(), { write: (text: string) => writes.push(text), isTTY: true });
    await new Promise((resolve) => setTimeout(resolve, 600));
    stop();
    expect(writes.length).toBeGreaterThanOrEqual(2);
    const clearLine = '\r\x1b[2K';
    expect(writes[0]!.startsWith(clearLine)).toBe(true);
    expect(writes[0]!.slice(clearLine.length)).toMatch(/^[\d.]+ s {2}\| {2}initials 10 {2}\| {2}followups 0 {2}\| {2}\d+ req\/s {2}\| {2}errors 1$/);
    expect(writes.at(-1)).toBe(clearLine);
  });
});
