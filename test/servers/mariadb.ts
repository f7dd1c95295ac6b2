// A throwaway MariaDB server for tests: its own data directory under os.tmpdir(), a free port on
// 127.0.0.1, a socket inside that directory, --no-defaults everywhere (no /etc/mysql config, no
// system datadir or socket). The database `og` and the user og/og (all privileges, so tests may
// create more databases) exist from the start; root has no password from 127.0.0.1.
//
//   const db = await startMariadb();
//   ... connect to db.url (mysql://og:og@127.0.0.1:PORT/og) ...
//   await db.kill('SIGKILL'); await db.restart();   // crash and recover, same port and data
//   await db.kill('SIGSTOP'); await db.kill('SIGCONT'); // frozen, then thawed
//   const release = await db.holdGlobalReadLock();   // every write stalls until release()
//   const file = await db.dump(); ... await db.restore(file);
//   await db.recreateDatabase();                     // `og` dropped and created empty
//   await db.stop();                                 // kills it and removes its directory
//
// The system tables are created once per test process (mariadb-install-db) and copied for each
// server, so a start costs one mariadbd boot.

import fsp from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import {
  findBinary,
  inTempDir,
  launchOnFreePort,
  makeTempDir,
  runTool,
  spawnManaged,
  stopProcess,
  waitUntil,
  ServerProcess,
  type ManagedProcess,
  type ManagedServer,
} from './process.ts';

export const MARIADB_MISSING_MESSAGE = 'MariaDB server binaries not found: run `bash provision/install.sh` (installs mariadb-server)';
const MARIADB_CLIENT_MISSING_MESSAGE = 'MariaDB client programs not found: run `bash provision/install.sh` (installs mariadb-client)';

export interface MariadbOptions {
  /** InnoDB buffer pool (default '32M': small, so it starts fast). */
  innodbBufferPoolSize?: string;
  /** More mariadbd options, e.g. ['--max-connections=20']. */
  extraArgs?: readonly string[];
  /** How long a start may take before it fails (default 60 s). */
  startTimeoutMs?: number;
}

export interface MariadbServer extends ManagedServer {
  /** mysql://og:og@127.0.0.1:PORT/og */
  readonly url: string;
  /** mysql://root@127.0.0.1:PORT/og (no password) */
  readonly rootUrl: string;
  readonly host: string;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** The Unix socket, inside `dir`. */
  readonly socketPath: string;
  /** Runs one statement on a connection of its own (as og) and returns its rows. */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * Takes FLUSH TABLES WITH READ LOCK on a connection of its own, as a backup tool does: reads go
   * on, every write and commit waits. Resolves once the lock is held, with the function that
   * releases it; it releases itself after `releaseAfterMs` if given.
   */
  holdGlobalReadLock(releaseAfterMs?: number): Promise<() => Promise<void>>;
  /** Drops the database and creates it again, empty (as an operator re-creating it would). */
  recreateDatabase(): Promise<void>;
  /** mariadb-dump of the database (one consistent snapshot, taken while writes go on); resolves with the file. */
  dump(): Promise<string>;
  /** Loads a dump() file with the mariadb client: its tables replace the current ones. */
  restore(file: string): Promise<void>;
}

/** The database and account every test server has. */
export const DB = { database: 'og', user: 'og', password: 'og' } as const;
const CREATE_DATABASE = `CREATE DATABASE \`${DB.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`;
const INNODB_LOG_FILE_SIZE = '16M';

function binaries(): { mariadbd: string; installDb: string } {
  return {
    mariadbd: findBinary(['mariadbd', 'mysqld'], MARIADB_MISSING_MESSAGE),
    installDb: findBinary(['mariadb-install-db', 'mysql_install_db'], MARIADB_MISSING_MESSAGE),
  };
}

const asRoot = process.getuid?.() === 0;

// The initialised data directory, created once per process and copied for each server.
let template: Promise<string> | undefined;

function dataTemplate(installDb: string): Promise<string> {
  template ??= (async () => {
    const dir = await makeTempDir('mariadb-template');
    const data = path.join(dir, 'data');
    const initSql = path.join(dir, 'init.sql');
    // Bootstrap runs with the grant tables unloaded: FLUSH PRIVILEGES loads them for CREATE USER.
    await fsp.writeFile(
      initSql,
      [
        'FLUSH PRIVILEGES;',
        `${CREATE_DATABASE};`,
        `CREATE USER IF NOT EXISTS '${DB.user}'@'%' IDENTIFIED BY '${DB.password}';`,
        `GRANT ALL PRIVILEGES ON *.* TO '${DB.user}'@'%';`,
        '',
      ].join('\n'),
    );
    const args = [
      '--no-defaults',
      ...(asRoot ? ['--user=root'] : []),
      `--datadir=${data}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
      `--extra-file=${initSql}`,
      `--innodb-log-file-size=${INNODB_LOG_FILE_SIZE}`,
      '--innodb-buffer-pool-size=32M',
    ];
    await runTool('mariadb-install-db', installDb, args, { cwd: dir, outputFile: path.join(dir, 'install.log'), marker: dir });
    return data;
  })();
  template.catch(() => {
    template = undefined; // let the next start try again
  });
  return template;
}

/**
 * Fills `dir` for a server: `data` (a copy of the initialised system tables, made once per
 * process) and `tmp`. Resolves with the mariadbd binary.
 */
export async function copyDataTemplate(dir: string): Promise<string> {
  const { mariadbd, installDb } = binaries();
  await fsp.cp(await dataTemplate(installDb), path.join(dir, 'data'), { recursive: true });
  await fsp.mkdir(path.join(dir, 'tmp'));
  return mariadbd;
}

/** The command line of a server whose files are in `dir` (as copyDataTemplate left it). */
export function mariadbdArgs(dir: string, options: { port: number; bindAddress?: string; user?: string; bufferPoolSize?: string; defaultsFile?: string; extraArgs?: readonly string[] }): string[] {
  const user = options.user ?? (asRoot ? 'root' : undefined);
  return [
    // A defaults file only where a helper must read the settings too (Galera's SST script: its TLS files).
    options.defaultsFile ? `--defaults-file=${options.defaultsFile}` : '--no-defaults',
    ...(user ? [`--user=${user}`] : []),
    `--datadir=${path.join(dir, 'data')}`,
    `--tmpdir=${path.join(dir, 'tmp')}`,
    `--socket=${path.join(dir, 'mysqld.sock')}`,
    `--pid-file=${path.join(dir, 'mysqld.pid')}`,
    `--log-error=${path.join(dir, 'error.log')}`,
    `--port=${options.port}`,
    `--bind-address=${options.bindAddress ?? '127.0.0.1'}`,
    '--skip-name-resolve',
    `--innodb-buffer-pool-size=${options.bufferPoolSize ?? '32M'}`,
    `--innodb-log-file-size=${INNODB_LOG_FILE_SIZE}`,
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_general_ci',
    '--max-connections=500',
    '--max-allowed-packet=64M',
    '--loose-feedback=OFF',
    ...(options.extraArgs ?? []),
  ];
}

/** Starts a fresh MariaDB server; resolves when `url` accepts connections. */
export async function startMariadb(options: MariadbOptions = {}): Promise<MariadbServer> {
  return inTempDir('mariadb', async (dir) => {
    const mariadbd = await copyDataTemplate(dir);
    const socketPath = path.join(dir, 'mysqld.sock');
    const errorLog = path.join(dir, 'error.log');
    const timeoutMs = options.startTimeoutMs ?? 60_000;

    const launch = async (port: number): Promise<ManagedProcess> => {
      const proc = spawnManaged('mariadbd', mariadbd, mariadbdArgs(dir, { port, bufferPoolSize: options.innodbBufferPoolSize, extraArgs: options.extraArgs }), { cwd: dir, outputFile: path.join(dir, 'mariadbd.out'), marker: dir, logFiles: [errorLog] });
      try {
        await waitUntil(`MariaDB to accept connections on 127.0.0.1:${port}`, proc, () => canConnect(port), { timeoutMs });
      } catch (error) {
        await stopProcess(proc, { signal: 'SIGKILL' });
        throw error;
      }
      return proc;
    };

    return new TestMariadb(dir, await launchOnFreePort(launch), launch, socketPath);
  });
}

class TestMariadb extends ServerProcess implements MariadbServer {
  readonly url: string;
  readonly rootUrl: string;
  readonly host = '127.0.0.1';
  readonly database = DB.database;
  readonly user = DB.user;
  readonly password = DB.password;
  readonly socketPath: string;
  #dumps = 0;

  constructor(dir: string, launched: { port: number; proc: ManagedProcess }, launch: (port: number) => Promise<ManagedProcess>, socketPath: string) {
    super(dir, launched, launch);
    this.url = `mysql://${DB.user}:${DB.password}@127.0.0.1:${this.port}/${DB.database}`;
    this.rootUrl = `mysql://root@127.0.0.1:${this.port}/${DB.database}`;
    this.socketPath = socketPath;
  }

  async query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const connection = await mysql.createConnection(this.url);
    try {
      const [rows] = await connection.query(sql, params);
      return rows as Record<string, unknown>[];
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
  }

  async holdGlobalReadLock(releaseAfterMs?: number): Promise<() => Promise<void>> {
    const connection = await mysql.createConnection(this.url);
    connection.on('error', () => undefined); // the server may be killed while the lock is held
    await connection.query('FLUSH TABLES WITH READ LOCK');
    let released: Promise<void> | undefined;
    const release = (): Promise<void> => {
      clearTimeout(timer);
      released ??= connection.query('UNLOCK TABLES').then(() => connection.end()).catch(() => connection.destroy());
      return released;
    };
    const timer = releaseAfterMs === undefined ? undefined : setTimeout(() => void release(), releaseAfterMs);
    return release;
  }

  async recreateDatabase(): Promise<void> {
    // Without a default database: the one to drop may not be in use by this connection.
    const connection = await mysql.createConnection({ host: this.host, port: this.port, user: DB.user, password: DB.password });
    try {
      await connection.query(`DROP DATABASE \`${DB.database}\``);
      await connection.query(CREATE_DATABASE);
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
  }

  async dump(): Promise<string> {
    const file = path.join(this.dir, `dump-${++this.#dumps}.sql`);
    const binary = findBinary(['mariadb-dump', 'mysqldump'], MARIADB_CLIENT_MISSING_MESSAGE);
    await runTool('mariadb-dump', binary, [...this.#clientArgs(), '--single-transaction', `--result-file=${file}`, DB.database], this.#toolOutput('dump'));
    return file;
  }

  async restore(file: string): Promise<void> {
    const binary = findBinary(['mariadb', 'mysql'], MARIADB_CLIENT_MISSING_MESSAGE);
    await runTool('mariadb', binary, [...this.#clientArgs(), `--execute=source ${file}`, DB.database], this.#toolOutput('restore'));
  }

  #clientArgs(): string[] {
    return ['--no-defaults', `--host=${this.host}`, `--port=${this.port}`, `--user=${DB.user}`, `--password=${DB.password}`];
  }

  #toolOutput(kind: string): { cwd: string; outputFile: string; marker: string } {
    return { cwd: this.dir, outputFile: path.join(this.dir, `${kind}.log`), marker: this.dir };
  }
}

/** Who asks, and over TLS or not (default: og/og in plain text). */
export interface MariadbAccess {
  user: string;
  password: string;
  ssl?: mysql.SslOptions;
}

/** True once the server at `host`:`port` runs a query as og, or as `access` says (throws while it cannot). */
export async function canConnect(port: number, host = '127.0.0.1', access: MariadbAccess = { user: DB.user, password: DB.password }): Promise<boolean> {
  const connection = await mysql.createConnection({ host, port, ...access, database: DB.database, connectTimeout: 2000 });
  try {
    await connection.query('SELECT 1');
    return true;
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}
