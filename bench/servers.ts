// The processes a benchmark needs: throwaway MariaDB, Redis and Elasticsearch (the test servers), a fresh store per
// measurement, the HTTP server of each interface as a child process, and the production tools
// (`npm run verify`, `npm run rebuild`).

import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { InterfaceName, InterfaceOptions } from '../interfaces/index.ts';
import { startElasticsearch, type ElasticsearchServer } from '../test/servers/elasticsearch.ts';
import { startMariadb, type MariadbServer } from '../test/servers/mariadb.ts';
import { freePort, logTail, makeTempDir, removeTempDir, spawnManaged, stopProcess, waitUntil, type ManagedProcess } from '../test/servers/process.ts';
import { startRedis, type RedisServer } from '../test/servers/redis.ts';
import { issueCertificate, mariadbTlsArgs, redisTlsArgs } from '../test/servers/tls.ts';

const ROOT = path.join(import.meta.dirname, '..');
/** What `npm start` gives node (its flags, then the server), so the bench measures that. */
const START_ARGS = startArguments(JSON.parse(await fsp.readFile(path.join(ROOT, 'package.json'), 'utf8')).scripts.start);

function startArguments(script: string): string[] {
  const [command, ...args] = script.split(' ');
  if (command !== 'node') throw new Error(`npm start runs ${command}, not node: the bench cannot start the server the same way`);
  return args.map((arg) => (arg.endsWith('.ts') ? path.join(ROOT, arg) : arg));
}

/**
 * The bench MariaDB: production durability (a redo log flush at every commit), but a buffer pool
 * that holds 10M events and a redo log that does not force a checkpoint every few batches.
 */
export const MARIADB_SETTINGS = {
  innodbBufferPoolSize: '2G',
  extraArgs: ['--innodb-log-file-size=512M', '--innodb-flush-log-at-trx-commit=1'],
} as const;

export interface Backends {
  /** Temporary folder: SQLite files, server logs. */
  dir: string;
  mariadb: MariadbServer | undefined;
  redis: RedisServer | undefined;
  /** With MariaDB and Redis: their TLS, for `mariadb-redis TLS` (both servers take plain connections too). */
  tls: { ca: string; redisUrl: string } | undefined;
  elasticsearch: ElasticsearchServer | undefined;
  stop(): Promise<void>;
}

/** The bench's Elasticsearch node: the heap `npm run elasticsearch` gives it. */
export const ELASTICSEARCH_HEAP = '1g';

/**
 * MariaDB and Redis also speak TLS, with a certificate for 127.0.0.1 of a CA made for the run
 * (provision/tls.sh): MariaDB on its port (a client asks for TLS), Redis on a tls-port of its own.
 */
export async function startBackends(withMariadbRedis: boolean, withElasticsearch: boolean): Promise<Backends> {
  const dir = await makeTempDir('bench');
  let tls: Backends['tls'];
  let [mariadb, redis]: [MariadbServer | undefined, RedisServer | undefined] = [undefined, undefined];
  const starting = withElasticsearch ? startElasticsearch({ heap: ELASTICSEARCH_HEAP }) : undefined;
  if (withMariadbRedis) {
    const certs = await issueCertificate(path.join(dir, 'tls'), 'localhost', ['127.0.0.1']);
    const tlsPort = await freePort();
    [mariadb, redis] = await Promise.all([
      startMariadb({ ...MARIADB_SETTINGS, extraArgs: [...MARIADB_SETTINGS.extraArgs, ...mariadbTlsArgs(certs)] }),
      startRedis({ extraArgs: redisTlsArgs(certs, tlsPort) }),
    ]);
    tls = { ca: certs.ca, redisUrl: `rediss://127.0.0.1:${tlsPort}` };
  }
  const elasticsearch = await starting;
  return {
    dir,
    mariadb,
    redis,
    tls,
    elasticsearch,
    async stop() {
      await Promise.all([mariadb?.stop(), redis?.stop(), elasticsearch?.stop()]);
      await removeTempDir(dir);
    },
  };
}

/** An empty store for one interface: its own MariaDB database and an empty Redis, an empty `events` index, or a new SQLite file; `tls`: reached over TLS. */
export async function freshStore(backends: Backends, name: InterfaceName, label: string, tls = false): Promise<InterfaceOptions> {
  const store: InterfaceOptions = { name, sqlitePath: path.join(backends.dir, `${label}.sqlite3`), mariadbUrl: '', redisUrl: '', elasticsearchUrl: '', deadlineMs: 2000 };
  if (name === 'mariadb-redis') {
    const { mariadb, redis } = required(backends);
    const url = new URL(mariadb.url);
    url.pathname = `/bench_${label.replace(/\W/g, '_')}`;
    await adminQuery(mariadb, `CREATE DATABASE ${url.pathname.slice(1)}`);
    await redis.flushAll();
    if (!tls) return { ...store, mariadbUrl: url.toString(), redisUrl: redis.url };
    if (!backends.tls) throw new Error('mariadb-redis over TLS needs the backends started with it');
    return { ...store, mariadbUrl: url.toString(), redisUrl: backends.tls.redisUrl, tls: { mariadb: { ca: backends.tls.ca }, redis: { ca: backends.tls.ca } } };
  }
  if (name === 'elasticsearch') {
    const node = requiredNode(backends);
    await node.request('DELETE', '/events?ignore_unavailable=true');
    return { ...store, elasticsearchUrl: node.url };
  }
  return store;
}

/** The environment that gives a server or tool `store`'s TLS files (they are environment only). */
const tlsEnv = (store: InterfaceOptions): Record<string, string> => ({
  ...(store.tls?.mariadb?.ca ? { MARIADB_TLS_CA: store.tls.mariadb.ca } : {}),
  ...(store.tls?.redis?.ca ? { REDIS_TLS_CA: store.tls.redis.ca } : {}),
});

/** Frees the disk a store took (10M events are gigabytes). */
export async function dropStore(backends: Backends, store: InterfaceOptions): Promise<void> {
  if (store.name === 'mariadb-redis') {
    const { mariadb, redis } = required(backends);
    await adminQuery(mariadb, `DROP DATABASE IF EXISTS ${new URL(store.mariadbUrl).pathname.slice(1)}`);
    await redis.flushAll();
  } else if (store.name === 'elasticsearch') {
    await requiredNode(backends).request('DELETE', '/events?ignore_unavailable=true');
  } else if (store.name === 'sqlite') {
    for (const suffix of ['', '-journal', '-wal', '-shm']) await fsp.rm(`${store.sqlitePath}${suffix}`, { force: true });
  }
}

function required(backends: Backends): { mariadb: MariadbServer; redis: RedisServer } {
  if (!backends.mariadb || !backends.redis) throw new Error('mariadb-redis needs the MariaDB and Redis backends');
  return { mariadb: backends.mariadb, redis: backends.redis };
}

function requiredNode(backends: Backends): ElasticsearchServer {
  if (!backends.elasticsearch) throw new Error('elasticsearch needs the Elasticsearch backend');
  return backends.elasticsearch;
}

async function adminQuery(mariadb: MariadbServer, sql: string): Promise<void> {
  const connection = await mysql.createConnection(mariadb.url);
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

export interface AppServer {
  url: string;
  pid: number;
  /** Throws with the server's log when it is not running any more. */
  assertRunning(): void;
  stop(): Promise<void>;
}

/**
 * The server as `npm start` runs it, on `store`, on a free port, request logs off. Node runs the
 * server itself (its own type stripping, no loader), so the pid is the server's own, for the RSS
 * samples.
 */
export async function startServer(backends: Backends, store: InterfaceOptions): Promise<AppServer> {
  const port = await freePort();
  return startProcess(backends, `${store.name} server`, port, [
    ...START_ARGS,
    '--port', String(port),
    '--host', '127.0.0.1',
    '--workers', '1',
    '--log-requests', 'false',
    '--data-interface', store.name,
    '--sqlite-path', store.sqlitePath,
    ...(store.name === 'mariadb-redis' ? ['--mariadb-url', store.mariadbUrl, '--redis-url', store.redisUrl] : []),
    ...(store.name === 'elasticsearch' ? ['--elasticsearch-url', store.elasticsearchUrl] : []),
  ], tlsEnv(store));
}

export type ReferenceKind = 'node-http' | 'express' | 'durable-floor' | 'same-work-floor';

/**
 * A reference server (bench/reference-server.ts), with the Node flags of `npm start`; the floors
 * write to `store`'s MariaDB database (and the same-work floor to its Redis).
 */
export async function startReference(backends: Backends, kind: ReferenceKind, store?: InterfaceOptions): Promise<AppServer> {
  const port = await freePort();
  const flags = START_ARGS.filter((arg) => arg.startsWith('--'));
  const database = store?.name === 'mariadb-redis' ? [store.mariadbUrl, ...(kind === 'same-work-floor' ? [store.redisUrl] : [])] : [];
  return startProcess(backends, `${kind} reference server`, port, [...flags, path.join(ROOT, 'bench', 'reference-server.ts'), kind, String(port), ...database]);
}

async function startProcess(backends: Backends, name: string, port: number, args: string[], env: Record<string, string> = {}): Promise<AppServer> {
  const output = path.join(backends.dir, `${name.replace(/\W+/g, '-')}.log`);
  const proc = spawnManaged(name, process.execPath, args, { cwd: backends.dir, outputFile: output, marker: backends.dir, env });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(`the ${name} to answer ${url}/healthz`, proc, async () => (await fetch(`${url}/healthz`)).ok, { timeoutMs: 120_000 });
  } catch (error) {
    await stopProcess(proc, { signal: 'SIGKILL' });
    throw error;
  }
  return {
    url,
    pid: proc.pid,
    assertRunning: () => assertRunning(proc),
    // A SQLite server busy with a long scan only sees SIGTERM once it is done: do not wait for it.
    stop: async () => void (await stopProcess(proc, { timeoutMs: 5000 })),
  };
}

function assertRunning(proc: ManagedProcess): void {
  if (proc.exitInfo) throw new Error(`the ${proc.name} stopped during the run\n${logTail(proc)}`);
}

export interface ToolRun {
  ok: boolean;
  seconds: number;
  /** Its last output line (the summary). */
  summary: string;
}

/** `npm run verify` or `npm run rebuild` against a mariadb-redis store. */
export async function runTool(script: 'verify' | 'rebuild', store: InterfaceOptions): Promise<ToolRun> {
  const started = performance.now();
  const child = spawn('npm', ['run', '--silent', script], {
    cwd: ROOT,
    env: { ...process.env, MARIADB_URL: store.mariadbUrl, REDIS_URL: store.redisUrl, ...tlsEnv(store) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const lines = output.trim().split('\n');
  return { ok: code === 0, seconds: (performance.now() - started) / 1000, summary: code === 0 ? lines.at(-1) ?? '' : lines.slice(-20).join('\n') };
}
