// The client against the real server (server/app.ts) on the sqlite interface: a --verify run that
// passes, and one that must fail because the interface loses events it acknowledged.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataInterface } from '../interfaces/contract.ts';
import { SqliteInterface } from '../interfaces/sqlite.ts';
import { createApp } from '../server/app.ts';
import { runCli } from './cli.ts';

let server: Server | undefined;
let data: DataInterface | undefined;

async function serve(backend: DataInterface): Promise<string> {
  server = createApp({ data: backend }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server!.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function client(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true },
    interrupt: new AbortController().signal,
  });
  return { code, stdout };
}

/** Acknowledges every 10th new initial without storing it: a server that miscounts. */
function losingEveryTenthInitial(backend: DataInterface): DataInterface {
  let initials = 0;
  return {
    name: backend.name,
    recordInitial: async (event) => (++initials % 10 === 0 ? { outcome: 'recorded' } : backend.recordInitial(event)),
    recordFollowup: (event) => backend.recordFollowup(event),
    symbolAggregate: (symbol) => backend.symbolAggregate(symbol),
    symbolAggregates: () => backend.symbolAggregates(),
    rangeAggregates: (lower, upper) => backend.rangeAggregates(lower, upper),
    series: (query) => backend.series(query),
    exportEvents: (range) => backend.exportEvents(range),
    loadEvents: (events) => backend.loadEvents(events),
    ping: () => backend.ping(),
    close: () => backend.close(),
  };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await data?.close();
  server = undefined;
  data = undefined;
});

describe('client against the real server on sqlite', () => {
  it('verifies a 2 s run at concurrency 4', async () => {
    data = await SqliteInterface.open(':memory:');
    const { code, stdout } = await client(['--url', await serve(data), '--duration', '2', '--concurrency', '4', '--verify']);
    expect(stdout).toMatch(/verified: [1-9]\d* initials, [1-9]\d* followups, all 26 letters match/);
    expect(stdout).toMatch(/errors\s+0\n/);
    expect(code).toBe(0);
  });

  it('fails --verify when the server loses every 10th initial', async () => {
    data = await SqliteInterface.open(':memory:');
    const { code, stdout } = await client(['--url', await serve(losingEveryTenthInitial(data)), '--requests', '300', '--concurrency', '4', '--verify']);
    expect(stdout).toContain('verify FAILED');
    expect(stdout).toMatch(/\n {2}[a-z] {7}count change/);
    expect(code).toBe(1);
  });
});
