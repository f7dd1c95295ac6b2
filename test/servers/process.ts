// Shared plumbing for the throwaway test servers (MariaDB, Redis, Redis Cluster): binaries, free
// ports, temporary directories, spawning, readiness waits and teardown.
//
// Every server runs from a fresh directory under os.tmpdir() (named `og-test-*`), on a port found
// free by binding port 0, and is torn down by its stop(). Should a test forget stop() or the test
// process end early, three nets catch what is left:
//   - a process 'exit' handler (and SIGINT/SIGTERM/SIGHUP handlers) kills every server still
//     running and removes every temporary directory, synchronously;
//   - a tiny detached watchdog (`sh`, one per test process) does the same once the test process
//     is gone, even after a kill -9 of it: it reads a registry file of pids and directories and only
//     kills a pid whose working directory is still inside its temporary directory (no pid-reuse
//     accidents; both redis-server and mariadbd chdir into their data folder).

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const TEMP_PREFIX = 'og-test-';

// ---------------------------------------------------------------------------------------------
// Binaries

/** A server binary is not installed. The message says how to install it. */
export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError';
}

/** Where binaries are looked up besides $PATH: a non-root PATH on Debian lacks the sbin folders. */
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * The absolute path of the first of `names` found in $PATH or the usual bin/sbin folders.
 * Throws a MissingBinaryError with `missingMessage` (plus what was searched) when none is.
 */
export function findBinary(names: readonly string[], missingMessage: string): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  throw new MissingBinaryError(`${missingMessage} [looked for ${names.join(', ')} in $PATH and ${EXTRA_BIN_DIRS.join(', ')}]`);
}

// ---------------------------------------------------------------------------------------------
// Ports and directories

async function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port the kernel gave'));
      });
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that is free right now (the kernel's pick for port 0). With `companions`,
 * the ports it returns for the candidate (e.g. `p => [p + 10000]` for a Redis Cluster bus port)
 * must be free too. `avoid` lists ports already handed out and not yet bound.
 * Another process may still take the port before the server binds it: starters retry on that.
 */
export async function freePort(options: { companions?: (port: number) => number[]; avoid?: Iterable<number> } = {}): Promise<number> {
  const avoid = new Set(options.avoid ?? []);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await ephemeralPort();
    const extra = options.companions?.(port) ?? [];
    if (avoid.has(port) || extra.some((p) => p > 65535 || p < 1 || avoid.has(p))) continue;
    let allFree = true;
    for (const p of extra) {
      if (!(await bindable(p))) {
        allFree = false;
        break;
      }
    }
    if (allFree) return port;
  }
  throw new Error('could not find a free TCP port on 127.0.0.1 after 100 attempts');
}

/** A fresh directory under os.tmpdir(), removed by removeTempDir() or, at the latest, at exit. */
export async function makeTempDir(kind: string): Promise<string> {
  ensureWatchdog();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `${TEMP_PREFIX}${kind}-`));
  registry.dirs.add(dir);
  writeRegistry();
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true, maxRetries: 3 });
  registry.dirs.delete(dir);
  writeRegistry();
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  error?: Error;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The pid, or -1 when spawning failed (then `exited` is already settled with `error`). */
  readonly pid: number;
  /** Settles (never rejects) when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** Undefined while the process runs. */
  readonly exitInfo: ExitInfo | undefined;
  /** Files holding the process's output and logs, for error messages. */
  readonly logFiles: readonly string[];
}

/**
 * Spawns `command` in `cwd` with stdout and stderr appended to `outputFile`, registered for cleanup
 * at exit. `marker` is the server's temporary directory: `cwd` must be inside it, and the watchdog
 * kills the pid only while its working directory still is.
 */
export function spawnManaged(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd: string; outputFile: string; marker: string; logFiles?: readonly string[]; env?: Readonly<Record<string, string>> },
): ManagedProcess {
  if (options.cwd !== options.marker && !options.cwd.startsWith(`${options.marker}/`)) {
    throw new Error(`spawnManaged(${name}): cwd ${options.cwd} must be inside ${options.marker}`);
  }
  ensureWatchdog();
  const out = fs.openSync(options.outputFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', out, out], env: { ...process.env, ...options.env, LANG: 'C', LC_ALL: 'C' } });
  } finally {
    fs.closeSync(out);
  }
  let exitInfo: ExitInfo | undefined;
  const pid = child.pid ?? -1;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', (error) => {
      if (child.pid === undefined) {
        exitInfo = { code: null, signal: null, error };
        resolve(exitInfo);
      }
    });
  });
  if (pid > 0) {
    registry.pids.set(pid, options.marker);
    writeRegistry();
    void exited.then(() => {
      registry.pids.delete(pid);
      writeRegistry();
    });
  }
  return {
    name,
    child,
    pid,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    logFiles: [options.outputFile, ...(options.logFiles ?? [])],
  };
}

/** Sends `signal` (SIGCONT first, in case it was stopped) unless the process has exited. */
export function signalProcess(proc: ManagedProcess, signal: NodeJS.Signals): void {
  if (proc.exitInfo || proc.pid <= 0) return;
  try {
    if (signal !== 'SIGSTOP' && signal !== 'SIGTSTP') process.kill(proc.pid, 'SIGCONT');
    process.kill(proc.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Stops the process with `signal` (SIGTERM), then SIGKILL after `timeoutMs`; resolves once it has exited. */
export async function stopProcess(proc: ManagedProcess, options: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<ExitInfo> {
  if (proc.exitInfo) return proc.exitInfo;
  signalProcess(proc, options.signal ?? 'SIGTERM');
  const timedOut = Symbol('timeout');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    proc.exited,
    new Promise<typeof timedOut>((resolve) => {
      timer = setTimeout(() => resolve(timedOut), options.timeoutMs ?? 20_000);
    }),
  ]);
  clearTimeout(timer);
  if (result !== timedOut) return result;
  signalProcess(proc, 'SIGKILL');
  return proc.exited;
}

/** Signals that end a process by default: kill() waits for the exit after these. */
export const TERMINATING_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT']);

/** The last `lines` lines of each log file, for error messages. */
export function logTail(proc: ManagedProcess, lines = 25): string {
  const parts: string[] = [];
  for (const file of proc.logFiles) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
    if (tail) parts.push(`--- ${file} ---\n${tail}`);
  }
  return parts.join('\n') || '(no output)';
}

/** A server failed to start; `exitedEarly` when its process ended before it was ready. */
export class ServerStartError extends Error {
  override name = 'ServerStartError';
  readonly exitedEarly: boolean;
  readonly log: string;

  constructor(message: string, exitedEarly: boolean, log: string) {
    super(message);
    this.exitedEarly = exitedEarly;
    this.log = log;
  }
}

export function describeExit(info: ExitInfo): string {
  if (info.error) return `could not be spawned (${info.error.message})`;
  return info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
}

/**
 * Polls `check` every `intervalMs` until it returns true. Throws a ServerStartError when `proc`
 * exits first or after `timeoutMs`, with the last check error and the process's log tail.
 */
export async function waitUntil(
  what: string,
  proc: ManagedProcess,
  check: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (proc.exitInfo) {
      const log = logTail(proc);
      throw new ServerStartError(`${proc.name} ${describeExit(proc.exitInfo)} before ${what}\n${log}`, true, log);
    }
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const log = logTail(proc);
      const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new ServerStartError(`${proc.name}: timed out after ${timeoutMs} ms waiting for ${what}${last}\n${log}`, false, log);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/** True when the log says the listening port was taken (the race freePort cannot exclude). */
export function looksLikePortInUse(log: string): boolean {
  return /address already in use|bind on tcp\/ip port|could not create server tcp listening socket/i.test(log);
}

/** Runs a short-lived tool (an installer, a dump, a restore) to its end; throws with its output when it fails. */
export async function runTool(name: string, command: string, args: readonly string[], options: { cwd: string; outputFile: string; marker: string }): Promise<void> {
  const exit = await spawnManaged(name, command, args, options).exited;
  if (exit.error || exit.code !== 0) {
    const log = await fsp.readFile(options.outputFile, 'utf8').catch(() => '');
    throw new Error(`${name} ${describeExit(exit)}:\n${log.trim().split('\n').slice(-25).join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// A server on a port and a directory of its own

/** What every throwaway server offers besides its own URLs and commands. */
export interface ManagedServer {
  readonly port: number;
  /** The temporary directory (data, logs); removed by stop(). */
  readonly dir: string;
  /** The running server's pid (undefined after a kill or stop). */
  readonly pid: number | undefined;
  isRunning(): boolean;
  /** Shuts down (SIGTERM, SIGKILL after 20 s) and removes the directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Sends a signal (default SIGKILL). After SIGKILL/SIGTERM/SIGINT/SIGQUIT it resolves once the
   * process has exited; SIGSTOP/SIGCONT freeze and thaw it (an unresponsive server).
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Shuts down if running, then starts again on the same port with the same data; resolves when ready. */
  restart(): Promise<void>;
}

/** Runs `start` in a fresh temporary directory, removed again when `start` fails. */
export async function inTempDir<T>(kind: string, start: (dir: string) => Promise<T>): Promise<T> {
  const dir = await makeTempDir(kind);
  try {
    return await start(dir);
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

/**
 * Launches a server on a free port (`launch` resolves once it is ready). The port may be taken
 * between freePort() and the server's bind: then it tries another one, 5 times at most.
 */
export async function launchOnFreePort(launch: (port: number) => Promise<ManagedProcess>): Promise<{ port: number; proc: ManagedProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, proc: await launch(port) };
    } catch (error) {
      if (!(error instanceof ServerStartError && error.exitedEarly && looksLikePortInUse(error.log) && attempt < 5)) throw error;
    }
  }
}

/** A ManagedServer whose process `launch` starts (again) on its port; subclasses add the rest. */
export class ServerProcess implements ManagedServer {
  readonly port: number;
  readonly dir: string;
  readonly #launch: (port: number) => Promise<ManagedProcess>;
  #current: ManagedProcess | undefined;
  #stopped = false;

  constructor(dir: string, launched: { port: number; proc: ManagedProcess }, launch: (port: number) => Promise<ManagedProcess>) {
    this.dir = dir;
    this.port = launched.port;
    this.#current = launched.proc;
    this.#launch = launch;
  }

  get pid(): number | undefined {
    return this.isRunning() ? this.#current?.pid : undefined;
  }

  isRunning(): boolean {
    return Boolean(this.#current && !this.#current.exitInfo);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#current) await stopProcess(this.#current);
    this.#current = undefined;
    await removeTempDir(this.dir);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.#current || this.#current.exitInfo) return;
    signalProcess(this.#current, signal);
    if (TERMINATING_SIGNALS.has(signal)) await this.#current.exited;
  }

  restart(): Promise<void> {
    return this.relaunch();
  }

  /** restart(), running `whileDown` (to change the server's files) between the shutdown and the start. */
  protected async relaunch(whileDown?: () => Promise<void>): Promise<void> {
    if (this.#stopped) throw new Error('restart() after stop(): start a new server instead');
    if (this.#current) await stopProcess(this.#current);
    this.#current = undefined;
    await whileDown?.();
    this.#current = await this.#launch(this.port);
  }
}

/**
 * Pids of live processes that run from `dir` (working directory inside it) or name it on their
 * command line (Linux /proc), for leftover checks. redis-server rewrites its command line, but it
 * and mariadbd both chdir into their data folder.
 */
export function processesUsing(dir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (isUsing(Number(entry), dir)) found.push(Number(entry));
  }
  return found;
}

function isUsing(pid: number, dir: string): boolean {
  try {
    const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    if (cwd === dir || cwd.startsWith(`${dir}/`) || cwd.startsWith(`${dir} `)) return true;
  } catch {
    // gone, or not ours to inspect
  }
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

/** Pids of the servers this process started and that still run (should be empty after stop()). */
export function liveServerPids(): number[] {
  return [...registry.pids.keys()];
}

// ---------------------------------------------------------------------------------------------
// Cleanup at exit, and the watchdog for when there is no exit handler to run

const registry = {
  pids: new Map<number, string>(),
  dirs: new Set<string>(),
  // Unique per module instance: vitest may evaluate this module more than once in one process.
  file: path.join(os.tmpdir(), `${TEMP_PREFIX}registry-${process.pid}-${randomBytes(4).toString('hex')}.tsv`),
  watchdog: false,
};

function writeRegistry(): void {
  if (!registry.watchdog) return;
  const lines = [...[...registry.pids].map(([pid, marker]) => `${pid}\t${marker}`), ...[...registry.dirs].map((dir) => `-\t${dir}`)];
  try {
    fs.writeFileSync(registry.file, lines.length ? `${lines.join('\n')}\n` : '');
  } catch {
    // best effort: the exit handler remains
  }
}

// Waits for the test process to go, then kills the registered servers whose command line still
// names their directory, and removes the registered directories (only og-test-* under tmpdir).
const WATCHDOG_SCRIPT = `
parent=$1; reg=$2; prefix=$3
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
[ -f "$reg" ] || exit 0
while IFS='	' read -r pid marker; do
  [ "$pid" = - ] && continue
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
  case "$cwd" in "$marker"|"$marker"/*) kill -CONT "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null ;; esac
done < "$reg"
sleep 0.5
while IFS='	' read -r pid dir; do
  case "$dir" in "$prefix"*) rm -rf -- "$dir" ;; esac
done < "$reg"
rm -f -- "$reg"
`;

function ensureWatchdog(): void {
  if (registry.watchdog) return;
  registry.watchdog = true;
  writeRegistry();
  try {
    const watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'og-test-watchdog', String(process.pid), registry.file, path.join(os.tmpdir(), TEMP_PREFIX)], {
      detached: true,
      stdio: 'ignore',
    });
    watchdog.on('error', () => undefined);
    watchdog.unref();
  } catch {
    // best effort: the exit handler remains
  }
  installExitHandlers();
}

function cleanupSync(): void {
  for (const pid of registry.pids.keys()) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  registry.pids.clear();
  for (const dir of registry.dirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // the watchdog tries again
    }
  }
  registry.dirs.clear();
  try {
    fs.rmSync(registry.file, { force: true });
  } catch {
    // ignore
  }
}

let exitHandlersInstalled = false;

function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupSync();
      // Keep the default behaviour (terminate by that signal) unless someone else handles it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
