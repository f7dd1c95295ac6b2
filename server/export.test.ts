// `npm run export` as a user runs it: on the null interface, bounds it cannot read exactly are
// refused; on a sqlite file of many events, a reader that goes away (`| head -1`) ends it quietly.

import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { RawEvent } from '../interfaces/contract.ts';
import { SqliteInterface } from '../interfaces/sqlite.ts';

const SCRIPT = new URL('./export.ts', import.meta.url).pathname;

async function exportWith(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, '--data-interface', 'null', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('npm run export', () => {
  it('accepts bounds at both edges of the span', async () => {
    expect(await exportWith(['--from', '1684-07-28 00:12:25.259009', '--to', '2255-06-05 23:47:34.740991'])).toEqual({
      code: 0, stdout: '', stderr: '',
    });
  });

  it('takes offsets in the bounds and writes CSV with --format csv', async () => {
    expect(await exportWith(['--from', '2026-11-23T10:00+02:00', '--to', '2026-11-23 10:00-05:30', '--format', 'csv'])).toEqual({
      code: 0, stdout: 'type,uuid,symbol,guess,ts\r\n', stderr: '',
    });
  });

  it.each([
    [['--format', 'xml'], /^--format "xml" is unknown: use ndjson or csv/],
    [['--from', '2026-11-23++02:00'], /^--from "2026-11-23\+\+02:00" is not a valid date/],
    [['--since', '2026-11-23'], /^Unknown option '--since'[^]*run with --help/],
    [['--from', '2017-02-30'], /^--from "2017-02-30" is not a valid date: use YYYY-MM-DD/],
    [['--to', '9999-12-31'], /^--to "9999-12-31" is outside the span of exact timestamps: use a date from 1684-07-28 00:12:25\.259009 to 2255-06-05 23:47:34\.740991/],
    [['--from', '1684-07-28'], /^--from "1684-07-28" is outside the span/],
  ])('refuses %j with exit code 2 and a message', async (args, message) => {
    const { code, stdout, stderr } = await exportWith(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });

  it('says what it takes with --help, on standard output, exit 0', async () => {
    const { code, stdout, stderr } = await exportWith(['--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Usage: npm run -s export -- \[options\][^]*--from DATE[^]*--format ndjson\|csv[^]*Exit status/);
  });

  it('stops quietly, exit 0, when its reader goes away after the first line (| head -1)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'og-export-'));
    try {
      const file = path.join(dir, 'events.sqlite3');
      const data = await SqliteInterface.open(file);
      const events: RawEvent[] = Array.from({ length: 200_000 }, (_, i) => ({ type: 'initial', uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, symbol: 'e', guess: true, ts: 1_700_000_000_000_000 + i }));
      await data.loadEvents(events);
      await data.close();
      const child = spawn(process.execPath, [SCRIPT, '--data-interface', 'sqlite', '--sqlite-path', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      const [first] = (await once(child.stdout, 'data')) as [Buffer];
      child.stdout.destroy(); // what head does after its first line
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      expect(first.toString().split('\n')[0]).toMatch(/^\{"type":"initial","uuid":"00000000-0000-4000-8000-000000000000"/);
      expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
