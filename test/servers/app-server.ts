// The service itself as a child process (`server/main.ts` on Node's own type stripping), for tests that kill it,
// restart it, or run several processes. It runs in a process group of its own, as a systemd service runs in
// its own control group: signalAll() signals every process of it at once. Killed at exit should a test forget stop().

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './process.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) signalGroup(child, 'SIGKILL');
});

export interface AppServer {
  url: string;
  pid: number;
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGTERM (a graceful shutdown), waiting for the exit. */
  stop(): Promise<void>;
  /** `signal` to the primary and all its server processes at once (what systemd's stop does). */
  signalAll(signal: NodeJS.Signals): void;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    // the group is gone already
  }
}

/** Starts `npm start`'s entry point with `env` on a free port; resolves once /healthz answers 200. */
export async function startAppServer(env: Record<string, string>, timeoutMs = 30_000): Promise<AppServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_REQUESTS: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(signal ?? code);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  void exited.then(() => (ended = true));
  for (;;) {
    if (ended) throw new Error(`the server exited while starting:\n${output}`);
    if (Date.now() > deadline) {
      signalGroup(child, 'SIGKILL');
      throw new Error(`the server did not answer /healthz within ${timeoutMs} ms:\n${output}`);
    }
    const ok = await fetch(`${url}/healthz`).then((response) => response.ok, () => false);
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid as number,
    exited,
    output: () => output,
    async stop() {
      // A frozen process (SIGSTOP) handles its SIGTERM once thawed.
      signalGroup(child, 'SIGCONT');
      child.kill('SIGTERM');
      await exited;
    },
    signalAll: (signal) => signalGroup(child, signal),
  };
}
