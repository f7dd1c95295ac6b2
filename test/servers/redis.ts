// A throwaway Redis server for tests: redis-server in the foreground, bound to 127.0.0.1 on a free
// port, its working directory a fresh folder under os.tmpdir(); no config file is read.
//
//   const redis = await startRedis();                       // no persistence: a restart comes back empty
//   const durable = await startRedis({ persistence: true }); // AOF, fsync on every write: data survives
//                                                            // restart() and even kill('SIGKILL')
//   await redis.pause(7000);                                 // CLIENT PAUSE: every client stalls 7 s
//   const old = await redis.snapshot(); ...                  // SAVE, and a copy of the RDB file
//   await redis.restartFromSnapshot(old);                    // kill -9, back with the old data
//   await redis.stop();                                      // kills it and removes its directory

import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls, { type ConnectionOptions } from 'node:tls';
import {
  findBinary,
  inTempDir,
  launchOnFreePort,
  spawnManaged,
  stopProcess,
  waitUntil,
  ServerProcess,
  type ManagedProcess,
  type ManagedServer,
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

export interface RedisServer extends ManagedServer {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly host: string;
  readonly persistence: boolean;
  /**
   * Shuts down if running, then starts again on the same port and directory; resolves when it
   * answers PING. With persistence the data comes back; without, it starts empty.
   */
  restart(): Promise<void>;
  /** FLUSHALL. */
  flushAll(): Promise<void>;
  /** Sends one command and returns the reply as text (simple, integer or bulk replies). */
  command(...args: string[]): Promise<string>;
  /**
   * CLIENT PAUSE for `ms`: every client's commands (ALL), or those that may write (WRITE), wait
   * until then. Scripts count as writes unless flagged no-writes.
   */
  pause(ms: number, mode?: 'ALL' | 'WRITE'): Promise<void>;
  /** CLIENT UNPAUSE. Redis holds it back too during a pause of ALL: that one lasts its time. */
  unpause(): Promise<void>;
  /** SAVE, then a copy of the RDB file kept in `dir`; resolves with the copy's path. */
  snapshot(): Promise<string>;
  /** kill -9, then starts again with the data of a snapshot() (as if it had been the last save). Without persistence only. */
  restartFromSnapshot(file: string): Promise<void>;
}

export function redisServerBinary(): string {
  return findBinary(['redis-server'], REDIS_MISSING_MESSAGE);
}

/** Starts a fresh Redis server; resolves when it answers PING. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const persistence = options.persistence ?? false;
  return inTempDir('redis', async (dir) => {
    const persistenceArgs = persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const extraArgs = [...persistenceArgs, ...(options.extraArgs ?? [])];
    const launch = (port: number): Promise<ManagedProcess> => launchRedis(binary, dir, port, extraArgs, options.startTimeoutMs);
    return new TestRedis(dir, await launchOnFreePort(launch), launch, persistence);
  });
}

class TestRedis extends ServerProcess implements RedisServer {
  readonly url: string;
  readonly host = '127.0.0.1';
  readonly persistence: boolean;
  #snapshots = 0;

  constructor(dir: string, launched: { port: number; proc: ManagedProcess }, launch: (port: number) => Promise<ManagedProcess>, persistence: boolean) {
    super(dir, launched, launch);
    this.url = `redis://127.0.0.1:${this.port}`;
    this.persistence = persistence;
  }

  override restart(): Promise<void> {
    // Nothing is saved without persistence, but make "comes back empty" hold whatever extraArgs (or a SAVE) said.
    return this.relaunch(this.persistence ? undefined : () => this.#forgetData());
  }

  async flushAll(): Promise<void> {
    await this.command('FLUSHALL');
  }

  command(...args: string[]): Promise<string> {
    return redisCommand(this.port, args);
  }

  async pause(ms: number, mode: 'ALL' | 'WRITE' = 'ALL'): Promise<void> {
    await this.command('CLIENT', 'PAUSE', String(ms), mode);
  }

  async unpause(): Promise<void> {
    await this.command('CLIENT', 'UNPAUSE');
  }

  async snapshot(): Promise<string> {
    await this.command('SAVE');
    const copy = path.join(this.dir, `snapshot-${++this.#snapshots}.rdb`);
    await fsp.copyFile(path.join(this.dir, 'dump.rdb'), copy);
    return copy;
  }

  async restartFromSnapshot(file: string): Promise<void> {
    // With the AOF on, Redis would load the AOF and ignore the RDB file.
    if (this.persistence) throw new Error('restartFromSnapshot() needs a Redis without persistence (its AOF would win over the snapshot)');
    await this.kill('SIGKILL');
    await this.relaunch(async () => {
      await this.#forgetData();
      await fsp.copyFile(file, path.join(this.dir, 'dump.rdb'));
    });
  }

  async #forgetData(): Promise<void> {
    await fsp.rm(path.join(this.dir, 'dump.rdb'), { force: true });
    await fsp.rm(path.join(this.dir, 'appendonlydir'), { recursive: true, force: true });
  }
}

/** How a client reaches a Redis node that speaks TLS only, or wants a user (default: plain text, no AUTH). */
export interface RedisAccess {
  /** Options of tls.connect (ca, and a client certificate when the node asks for one). */
  tls?: ConnectionOptions;
  /** AUTH user password before each command. */
  user?: string;
  password?: string;
}

/** Where a Redis node listens, and how its process is started (default: 127.0.0.1, as it is). */
export interface RedisPlace {
  /** The address it binds and is asked at (default 127.0.0.1). */
  host?: string;
  /** Turns the command line into another (e.g. `ip netns exec NS …` to start it on a test host). */
  wrap?: (command: string, args: string[]) => [string, string[]];
  /** A redis.conf read first (users, TLS files: what must not be on a command line). */
  configFile?: string;
  /** How it is asked whether it is up; with `tls`, `port` is its tls-port and it has no plain one. */
  access?: RedisAccess;
}

/**
 * Spawns redis-server in `dir` on `port` and waits for PING. Shared with the cluster starters.
 * Kills the process again when it does not get ready.
 */
export async function launchRedis(binary: string, dir: string, port: number, extraArgs: readonly string[], timeoutMs = 30_000, place: RedisPlace = {}): Promise<ManagedProcess> {
  const host = place.host ?? '127.0.0.1';
  const args = [
    ...(place.configFile ? [place.configFile] : []),
    ...(place.access?.tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)]),
    '--bind', host,
    '--dir', dir,
    '--daemonize', 'no',
    '--save', '',
    '--logfile', '',
    '--protected-mode', host === '127.0.0.1' ? 'yes' : 'no',
    ...extraArgs,
  ];
  const [command, commandArgs] = place.wrap?.(binary, args) ?? [binary, args];
  const proc = spawnManaged(`redis-server ${host}:${port}`, command, commandArgs, { cwd: dir, outputFile: path.join(dir, 'redis.log'), marker: dir });
  try {
    await waitUntil(`Redis to answer PING on ${host}:${port}`, proc, async () => (await redisCommand(port, ['PING'], 1000, host, place.access)) === 'PONG', { timeoutMs });
  } catch (error) {
    await stopProcess(proc, { signal: 'SIGKILL' });
    throw error;
  }
  return proc;
}

const command = (args: readonly string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

/**
 * One command over a fresh connection, without a client library (readiness checks, cluster set-up),
 * after AUTH when `access` has a user. Returns simple strings, integers and bulk strings as text; an
 * error reply rejects.
 */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 5000, host = '127.0.0.1', access: RedisAccess = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = access.tls ? tls.connect({ ...access.tls, host, port }) : net.createConnection({ host, port });
    let buffer = Buffer.alloc(0);
    // AUTH's reply comes first when it was sent.
    let skipAuthReply = access.user !== undefined;
    const done = (error: Error | undefined, value?: string): void => {
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? '');
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`)));
    socket.on('error', (error) => done(error));
    socket.on('close', () => done(new Error(`${host}:${port} closed the connection without a reply`)));
    socket.on(access.tls ? 'secureConnect' : 'connect', () => {
      socket.write((access.user === undefined ? '' : command(['AUTH', access.user, access.password ?? ''])) + command(args));
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const lineEnd = buffer.indexOf('\r\n');
        if (lineEnd < 0) return;
        const type = String.fromCharCode(buffer[0] ?? 0);
        const line = buffer.subarray(1, lineEnd).toString();
        if (skipAuthReply) {
          if (type === '-') return done(new Error(`Redis error from ${host}:${port} to AUTH: ${line}`));
          skipAuthReply = false;
          buffer = buffer.subarray(lineEnd + 2);
          continue;
        }
        if (type === '+' || type === ':') return done(undefined, line);
        if (type === '-') return done(new Error(`Redis error from ${host}:${port}: ${line}`));
        if (type === '$') {
          const length = Number(line);
          if (length < 0) return done(undefined, '');
          if (buffer.length < lineEnd + 2 + length + 2) return; // wait for the rest
          return done(undefined, buffer.subarray(lineEnd + 2, lineEnd + 2 + length).toString());
        }
        return done(new Error(`unsupported Redis reply type "${type}" from ${host}:${port}`));
      }
    });
  });
}
