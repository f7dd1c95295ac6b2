// The client as a process, started as `npm run client` starts it: exit codes and Ctrl-C.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeServer, type FakeServer } from './fake-server.ts';

const ROOT = path.join(import.meta.dirname, '..');

function startClient(args: string[]) {
  const child = spawn(process.execPath, ['client/main.ts', ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const output = () => stderr;
  return { child, exited, output };
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('npm run client', () => {
  it('prints the summary and verifies after Ctrl-C, exit code 0', async () => {
    server = await startFakeServer();
    const client = startClient(['--url', server.url, '--concurrency', '2', '--verify']);
    while (!client.output().includes('until Ctrl-C')) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.child.kill('SIGINT');
    const { code, stdout, stderr } = await client.exited;
    expect(stderr).toContain('stopping: waiting for the requests in flight');
    expect(stdout).toContain('stopped: Ctrl-C');
    expect(stdout).toContain(`verified: ${server.initials.size} initials`);
    expect(code).toBe(0);
  });

  it('exits with code 2 and says how to start the server when nothing listens', async () => {
    server = await startFakeServer();
    const { url } = server;
    await server.close();
    server = undefined;
    const { code, stderr } = await startClient(['--url', url, '--requests', '5']).exited;
    expect(stderr).toContain(`is the server running at ${url}? start it with npm start`);
    expect(code).toBe(2);
  });
});
