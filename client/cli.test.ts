// The client as a user runs it, in-process, against the fake server (a test double of the real one).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';
import { startFakeServer, type FakeServer, type FakeServerOptions } from './fake-server.ts';
import type { LedgerEntry } from './ledger.ts';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function client(args: string[], interrupt = new AbortController().signal): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    interrupt,
  });
  return { code, stdout, stderr };
}

let server: FakeServer;
let dir: string;

async function serve(options: FakeServerOptions = {}): Promise<string> {
  await server?.close();
  server = await startFakeServer(options);
  return server.url;
}

async function readLedger(file: string): Promise<LedgerEntry[]> {
  return (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as LedgerEntry);
}

const followupsStored = () => [...server.initials.values()].reduce((sum, i) => sum + i.followups, 0);

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'client-test-'));
});

afterEach(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('options', () => {
  it('--help lists every option', async () => {
    const { code, stdout } = await client(['--help']);
    expect(code).toBe(0);
    for (const option of ['--url', '--concurrency', '--duration', '--requests', '--seed', '--text', '--ledger', '--verify']) {
      expect(stdout).toContain(option);
    }
  });

  it.each([
    [['--concurrency', '0'], /--concurrency "0"/],
    [['--requests', '1.5'], /--requests "1.5"/],
    [['--duration', '0'], /--duration "0"/],
    [['--url', 'ftp://example.com'], /--url/],
    [['--bogus'], /bogus/],
    [['extra'], /extra/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const { code, stderr } = await client(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('stops with exit code 2 when --text cannot be read', async () => {
    const { code, stderr } = await client(['--url', await serve(), '--text', path.join(dir, 'missing.txt')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot start: .*ENOENT/);
  });
});

describe('no server', () => {
  it('says how to start one, with exit code 2', async () => {
    const url = await serve();
    await server.close();
    const { code, stderr } = await client(['--url', url, '--requests', '10']);
    expect(code).toBe(2);
    expect(stderr).toContain(`is the server running at ${url}? start it with npm start`);
    expect(stderr).toContain('ECONNREFUSED');
  });
});

describe('a run', () => {
  it('sends the initials asked for, follows up some, and verifies them strictly', async () => {
    const url = await serve();
    const { code, stdout } = await client(['--url', url, '--requests', '400', '--concurrency', '4', '--verify']);
    expect(code).toBe(0);
    expect(server.initials.size).toBe(400);
    const followups = followupsStored();
    expect(followups).toBeGreaterThan(0);
    expect(stdout).toContain(`verified: 400 initials, ${followups} followups, all 26 letters match`);
    expect(stdout).not.toContain('delta-only');
    expect(stdout).toMatch(/\/initial\s+200\s+400/);
    expect(stdout).toMatch(/latency ms\s+p50 [\d.]+ {2}p95 [\d.]+ {2}p99 [\d.]+ {2}max [\d.]+/);
  });

  it('fails --verify when the server miscounts, with a table of the differences', async () => {
    const url = await serve({ forgetEveryNthInitial: 10 });
    const { code, stdout } = await client(['--url', url, '--requests', '200', '--concurrency', '4', '--verify']);
    expect(code).toBe(1);
    expect(stdout).toContain('verify FAILED');
    expect(stdout).toMatch(/letter\s+check\s+expected\s+server says/);
    expect(stdout).toMatch(/\n {2}[a-z] {7}count change/);
    expect(stdout).not.toContain('verified:');
  });

  it('checks only the change when the backend already held events, and says why', async () => {
    const url = await serve();
    expect((await client(['--url', url, '--requests', '50'])).code).toBe(0);
    const { code, stdout } = await client(['--url', url, '--requests', '50', '--verify']);
    expect(code).toBe(0);
    expect(stdout).toContain('delta-only check: the backend already held 50 initials at the start');
    expect(stdout).toMatch(/verified: 50 initials, \d+ followups, all 26 letters match/);
  });

  it('retries a 503 after its Retry-After with the same uuid, and counts it', async () => {
    const url = await serve({ unavailableFor: 5 });
    const ledgerFile = path.join(dir, 'ledger.ndjson');
    const { code, stdout } = await client(['--url', url, '--requests', '100', '--concurrency', '2', '--verify', '--ledger', ledgerFile]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/retries\s+5 /);
    expect(stdout).toMatch(/\/initial\s+503\s+5/);
    expect(stdout).toContain('verified: 100 initials');
    const ledger = await readLedger(ledgerFile);
    const refused = ledger.filter((entry) => entry.status === 503);
    expect(refused).toHaveLength(5);
    for (const entry of refused) {
      expect(ledger.some((later) => later.uuid === entry.uuid && later.route === entry.route && later.status === 200)).toBe(true);
    }
  });

  it('writes one ledger line per request', async () => {
    const url = await serve();
    const ledgerFile = path.join(dir, 'ledger.ndjson');
    const { stdout } = await client(['--url', url, '--requests', '60', '--ledger', ledgerFile]);
    const ledger = await readLedger(ledgerFile);
    const initials = ledger.filter((entry) => entry.route === '/initial');
    const followups = ledger.filter((entry) => entry.route === '/followup');
    expect(initials).toHaveLength(60);
    expect(stdout).toContain(`60 initials and ${followups.length} followups answered 200`);
    for (const entry of ledger) {
      expect(entry.time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      expect(entry.status).toBe(200);
      expect(entry.latency_ms).toBeGreaterThan(0);
      expect(server.initials.get(entry.uuid)?.symbol).toBe(entry.symbol);
    }
    for (const entry of initials) expect(['True', 'False']).toContain(entry.answer);
    for (const entry of followups) expect(entry.answer).toBe('hooray');
  });

  it('cycles through the letters of --text in order', async () => {
    const url = await serve();
    const textFile = path.join(dir, 'novel.txt');
    await writeFile(textFile, 'Call me Ishmael.\n');
    const ledgerFile = path.join(dir, 'ledger.ndjson');
    await client(['--url', url, '--requests', '20', '--text', textFile, '--ledger', ledgerFile]);
    const symbols = (await readLedger(ledgerFile)).filter((entry) => entry.route === '/initial').map((entry) => entry.symbol);
    expect(symbols.join('')).toBe('callmeishmaelcallmei');
  });

  it('repeats letters and uuids for the same --seed, whatever the concurrency', async () => {
    const pairs = async (concurrency: string) => {
      const ledgerFile = path.join(dir, `ledger-${concurrency}.ndjson`);
      await client(['--url', await serve(), '--requests', '100', '--seed', 'moby', '--concurrency', concurrency, '--ledger', ledgerFile]);
      return (await readLedger(ledgerFile)).filter((entry) => entry.route === '/initial').map((entry) => `${entry.uuid} ${entry.symbol}`);
    };
    const sequential = await pairs('1');
    expect(await pairs('1')).toEqual(sequential);
    expect((await pairs('8')).sort()).toEqual([...sequential].sort());
    expect(new Set(sequential.map((pair) => pair.slice(-1))).size).toBeGreaterThan(10);
  });

  it('stops after --duration', async () => {
    const url = await serve();
    const started = performance.now();
    const { code, stdout } = await client(['--url', url, '--duration', '0.5', '--concurrency', '2']);
    expect(code).toBe(0);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(stdout).toContain('stopped: --duration 0.5 s');
  });

  it('stops on Ctrl-C, lets the requests in flight finish, and still verifies', async () => {
    const url = await serve();
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 500);
    const { code, stdout } = await client(['--url', url, '--concurrency', '4', '--verify'], interrupt.signal);
    expect(code).toBe(0);
    expect(stdout).toContain('stopped: Ctrl-C');
    expect(stdout).toContain(`verified: ${server.initials.size} initials`);
  });
});

describe('npm run client in a pipe', () => {
  it('ends quietly, exit 0, when its reader went away (| head -0)', async () => {
    const url = await serve();
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'main.ts'), '--url', url, '--requests', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    // The reader gone before the summary, the client's only output off a terminal.
    child.stdout.destroy();
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: expect.stringMatching(/^sending to [^]*\n$/) });
    expect(stderr).not.toMatch(/EPIPE|Error/);
  });
});
