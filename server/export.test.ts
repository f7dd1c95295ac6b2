// `npm run export` as a user runs it, on the null interface: bounds it cannot read exactly are refused.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

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
    [['--from', '2026-11-23+02:00'], /^--from "2026-11-23\+02:00" is not a valid date/],
    [['--from', '2017-02-30'], /^--from "2017-02-30" is not a valid date: use YYYY-MM-DD/],
    [['--to', '9999-12-31'], /^--to "9999-12-31" is outside the span of exact timestamps: use a date from 1684-07-28 00:12:25\.259009 to 2255-06-05 23:47:34\.740991/],
    [['--from', '1684-07-28'], /^--from "1684-07-28" is outside the span/],
  ])('refuses %j with exit code 2 and a message', async (args, message) => {
    const { code, stdout, stderr } = await exportWith(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });
});
