// `npm run bench` in pieces, as a user runs it: --help lists the choices, a bad choice is refused, and
// a partial run writes a folder of its own, leaving the full run's results as they are.

import { execFile } from 'node:child_process';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const MAIN = path.join(import.meta.dirname, 'main.ts');
const RESULTS = path.join(import.meta.dirname, 'results');

async function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('npm run bench, in pieces', () => {
  it('lists its choices with --help', async () => {
    const { code, stdout } = await bench(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--sizes N,N[^]*--scenarios LIST[^]*ingest, dashboards[^]*--interfaces LIST[^]*null, sqlite, mariadb-redis/);
  });

  it.each([
    [['--scenarios', 'ingest,reads'], /--scenarios "ingest,reads": use a comma-separated list of ingest, dashboards/],
    [['--interfaces', 'redis'], /--interfaces "redis": use a comma-separated list of null, sqlite, mariadb-redis/],
    [['--sizes', '10k'], /--sizes "10k": use a comma-separated list of whole numbers above 0/],
    [['--fast'], /Unknown option '--fast'/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const { code, stderr } = await bench(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('runs just the part asked for into a folder of its own, the full run\'s results untouched', async () => {
    const full = (await stat(path.join(RESULTS, 'latest.json'))).mtimeMs;
    const before = new Set(await readdir(path.join(RESULTS, 'runs')).catch(() => []));
    const { code, stdout, stderr } = await bench(['--quick', '--scenarios', 'dashboards', '--interfaces', 'null', '--sizes', '1000']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/bench \(quick\): dashboards of null; N = 1k/);
    expect(stdout).not.toMatch(/ingest: /);
    const made = (await readdir(path.join(RESULTS, 'runs'))).filter((name) => !before.has(name));
    expect(made).toEqual([expect.stringMatching(/-quick-dashboards-null-1k$/)]);
    try {
      const files = await readdir(path.join(RESULTS, 'runs', made[0] as string));
      expect(files.sort()).toEqual(['dashboards.svg', 'ingest.svg', 'latest.json', 'latest.md', 'machine.json']);
      expect((await stat(path.join(RESULTS, 'latest.json'))).mtimeMs).toBe(full);
    } finally {
      await rm(path.join(RESULTS, 'runs', made[0] as string), { recursive: true, force: true });
    }
  });
});
