// A throwaway Redis server for tests: redis-server in the foreground, bound to 127.0.0.1 on a free
// port, its working directory a fresh folder under os.tmpdir(); no config file is read.
//
//   const redis = await startRedis();                       // no persistence: a restart comes back empty
//   const durable = await startRedis({ persistence: true }); // AOF, fsync on every write: data survives
//                                                            // restart() and even kill('SIGKILL')
//   await redis.stop();                                      // kills it and removes its directory

import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {
  findBinary,
  freePort,
  looksLikePortInUse,
  makeTempDir,
  removeTempDir,
  ServerStartError,
  spawnManaged,
  stopProcess,
  signalProcess,
  TERMINATING_SIGNALS,
  waitUntil,
  type ManagedProcess,
} from './process.ts';

export const REDIS_MISSING_MESSAGE = 'Redis server binary not found: run `bash provision/install.sh` (installs redis-server)';

export interface RedisOptions {
  /** AOF with appendfsync always (default false: nothing is ever written to disk). */
  persistence?: boolean;
  /** More redis-server options, e.g. ['--maxmemory', '10mb']. */
  extraArgs?: readonly string[];
  /** How long a start may take before it fails (default 30 s). */
  startTimeoutMs?: number;
}

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly persistence: boolean;
  /** The temporary working directory (AOF files, log); removed by stop(). */
  readonly dir: string;
  /** The running redis-server's pid (undefined after a kill or stop). */
  readonly pid: number | undefined;
  isRunning(): boolean;
  /** Shuts down (SIGTERM, SIGKILL after 20 s) and removes the directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Sends a signal (default SIGKILL). After SIGKILL/SIGTERM/SIGINT/SIGQUIT it resolves once the
   * process has exited; SIGSTOP/SIGCONT freeze and thaw it (an unresponsive Redis).
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Shuts down if running, then starts again on the same port and directory; resolves when it
   * answers PING. With persistence the data comes back; without, it starts empty.
   */
  restart(): Promise<void>;
  /** FLUSHALL. */
  flushAll(): Promise<void>;
  /** Sends one command and returns the reply as text (simple, integer or bulk replies). */
  command(...args: string[]): Promise<string>;
}

export function redisServerBinary(): string {
  return findBinary(['redis-server'], REDIS_MISSING_MESSAGE);
}

/** Starts a fresh Redis server; resolves when it answers PING. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const persistence = options.persistence ?? false;
  const dir = await makeTempDir('redis');
  try {
    const persistenceArgs = persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const extraArgs = [...persistenceArgs, ...(options.extraArgs ?? [])];
    const launch = (port: number): Promise<ManagedProcess> => launchRedis(binary, dir, port, extraArgs, options.startTimeoutMs);

    let port = 0;
    let proc: ManagedProcess | undefined;
    for (let attempt = 1; !proc; attempt++) {
      port = await freePort();
      try {
        proc = await launch(port);
      } catch (error) {
        if (!(error instanceof ServerStartError && error.exitedEarly && looksLikePortInUse(error.log) && attempt < 5)) throw error;
      }
    }

    let current: ManagedProcess | undefined = proc;
    let stopped = false;
    return {
      url: `redis://127.0.0.1:${port}`,
      host: '127.0.0.1',
      port,
      persistence,
      dir,
      get pid() {
        return current && !current.exitInfo ? current.pid : undefined;
      },
      isRunning: () => Boolean(current && !current.exitInfo),
      async stop() {
        if (stopped) return;
        stopped = true;
        if (current) await stopProcess(current);
        current = undefined;
        await removeTempDir(dir);
      },
      async kill(signal: NodeJS.Signals = 'SIGKILL') {
        if (!current || current.exitInfo) return;
        signalProcess(current, signal);
        if (TERMINATING_SIGNALS.has(signal)) await current.exited;
      },
      async restart() {
        if (stopped) throw new Error('restart() after stop(): start a new server instead');
        if (current) await stopProcess(current);
        current = undefined;
        if (!persistence) {
          // Nothing is saved without persistence, but make "comes back empty" hold whatever extraArgs said.
          await fsp.rm(path.join(dir, 'dump.rdb'), { force: true });
          await fsp.rm(path.join(dir, 'appendonlydir'), { recursive: true, force: true });
        }
        current = await launch(port);
      },
      async flushAll() {
        await redisCommand(port, ['FLUSHALL']);
      },
      command: (...args: string[]) => redisCommand(port, args),
    };
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

/**
 * Spawns redis-server in `dir` on `port` and waits for PING. Shared with the cluster starter.
 * Kills the process again when it does not get ready.
 */
export async function launchRedis(binary: string, dir: string, port: number, extraArgs: readonly string[], timeoutMs = 30_000): Promise<ManagedProcess> {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--daemonize', 'no',
    '--save', '',
    '--logfile', '',
    '--protected-mode', 'yes',
    ...extraArgs,
  ];
  const proc = spawnManaged(`redis-server :${port}`, binary, args, { cwd: dir, outputFile: path.join(dir, 'redis.log'), marker: dir });
  try {
    await waitUntil(`Redis to answer PING on 127.0.0.1:${port}`, proc, async () => (await redisCommand(port, ['PING'], 1000)) === 'PONG', { timeoutMs });
  } catch (error) {
    await stopProcess(proc, { signal: 'SIGKILL' });
    throw error;
  }
  return proc;
}

/**
 * One command over a fresh connection, without a client library (readiness checks, cluster set-up).
 * Returns simple strings, integers and bulk strings as text; an error reply rejects.
 */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    let buffer = Buffer.alloc(0);
    const done = (error: Error | undefined, value?: string): void => {
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? '');
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no reply from 127.0.0.1:${port} within ${timeoutMs} ms`)));
    socket.on('error', (error) => done(error));
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const lineEnd = buffer.indexOf('\r\n');
      if (lineEnd < 0) return;
      const type = String.fromCharCode(buffer[0] ?? 0);
      const line = buffer.subarray(1, lineEnd).toString();
      if (type === '+' || type === ':') return done(undefined, line);
      if (type === '-') return done(new Error(`Redis error from 127.0.0.1:${port}: ${line}`));
      if (type === '$') {
        const length = Number(line);
        if (length < 0) return done(undefined, '');
        if (buffer.length < lineEnd + 2 + length + 2) return; // wait for the rest
        return done(undefined, buffer.subarray(lineEnd + 2, lineEnd + 2 + length).toString());
      }
      done(new Error(`unsupported Redis reply type "${type}" from 127.0.0.1:${port}`));
    });
  });
}
