// A throwaway MariaDB server for tests: its own data directory under os.tmpdir(), a free port on
// 127.0.0.1, a socket inside that directory, --no-defaults everywhere (no /etc/mysql config, no
// system datadir or socket). The database `og` and the user og/og (all privileges, so tests may
// create more databases) exist from the start; root has no password from 127.0.0.1.
//
//   const db = await startMariadb();
//   ... connect to db.url (mysql://og:og@127.0.0.1:PORT/og) ...
//   await db.kill('SIGKILL'); await db.restart();   // crash and recover, same port and data
//   await db.stop();                                 // kills it and removes its directory
//
// The system tables are created once per test process (mariadb-install-db) and copied for each
// server, so a start costs one mariadbd boot.

import fsp from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
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

export const MARIADB_MISSING_MESSAGE = 'MariaDB server binaries not found: run `bash provision/install.sh` (installs mariadb-server)';

export interface MariadbOptions {
  /** InnoDB buffer pool (default '32M': small, so it starts fast). */
  innodbBufferPoolSize?: string;
  /** More mariadbd options, e.g. ['--max-connections=20']. */
  extraArgs?: readonly string[];
  /** How long a start may take before it fails (default 60 s). */
  startTimeoutMs?: number;
}

export interface MariadbServer {
  /** mysql://og:og@127.0.0.1:PORT/og */
  readonly url: string;
  /** mysql://root@127.0.0.1:PORT/og (no password) */
  readonly rootUrl: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** The Unix socket, inside `dir`. */
  readonly socketPath: string;
  /** The temporary directory (data, socket, logs); removed by stop(). */
  readonly dir: string;
  /** The running mariadbd's pid (undefined after a kill or stop). */
  readonly pid: number | undefined;
  isRunning(): boolean;
  /** Shuts down (SIGTERM, SIGKILL after 20 s) and removes the directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Sends a signal (default SIGKILL). After SIGKILL/SIGTERM/SIGINT/SIGQUIT it resolves once the
   * process has exited; SIGSTOP/SIGCONT freeze and thaw it (an unresponsive database).
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Shuts down if running, then starts again on the same port with the same data; resolves when ready. */
  restart(): Promise<void>;
}

const DB = { database: 'og', user: 'og', password: 'og' } as const;
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
        `CREATE DATABASE IF NOT EXISTS \`${DB.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;`,
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
    const proc = spawnManaged('mariadb-install-db', installDb, args, { cwd: dir, outputFile: path.join(dir, 'install.log'), marker: dir });
    const exit = await proc.exited;
    if (exit.error || exit.code !== 0) {
      const log = await fsp.readFile(path.join(dir, 'install.log'), 'utf8').catch(() => '');
      throw new Error(`mariadb-install-db failed (${exit.error?.message ?? `exit code ${exit.code}, signal ${exit.signal}`}):\n${log.trim().split('\n').slice(-25).join('\n')}`);
    }
    return data;
  })();
  template.catch(() => {
    template = undefined; // let the next start try again
  });
  return template;
}

/** Starts a fresh MariaDB server; resolves when `url` accepts connections. */
export async function startMariadb(options: MariadbOptions = {}): Promise<MariadbServer> {
  const { mariadbd, installDb } = binaries();
  const templateData = await dataTemplate(installDb);

  const dir = await makeTempDir('mariadb');
  try {
    const data = path.join(dir, 'data');
    const tmp = path.join(dir, 'tmp');
    await fsp.cp(templateData, data, { recursive: true });
    await fsp.mkdir(tmp);
    const socketPath = path.join(dir, 'mysqld.sock');
    const errorLog = path.join(dir, 'error.log');
    const timeoutMs = options.startTimeoutMs ?? 60_000;

    const argsFor = (port: number): string[] => [
      '--no-defaults',
      ...(asRoot ? ['--user=root'] : []),
      `--datadir=${data}`,
      `--tmpdir=${tmp}`,
      `--socket=${socketPath}`,
      `--pid-file=${path.join(dir, 'mysqld.pid')}`,
      `--log-error=${errorLog}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      `--innodb-buffer-pool-size=${options.innodbBufferPoolSize ?? '32M'}`,
      `--innodb-log-file-size=${INNODB_LOG_FILE_SIZE}`,
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_general_ci',
      '--max-connections=500',
      '--max-allowed-packet=64M',
      '--loose-feedback=OFF',
      ...(options.extraArgs ?? []),
    ];

    const launch = async (port: number): Promise<ManagedProcess> => {
      const proc = spawnManaged('mariadbd', mariadbd, argsFor(port), { cwd: dir, outputFile: path.join(dir, 'mariadbd.out'), marker: dir, logFiles: [errorLog] });
      try {
        await waitUntil(`MariaDB to accept connections on 127.0.0.1:${port}`, proc, () => canConnect(port), { timeoutMs });
      } catch (error) {
        await stopProcess(proc, { signal: 'SIGKILL' });
        throw error;
      }
      return proc;
    };

    // The port may be taken between freePort() and mariadbd's bind: try again on another one.
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
      url: `mysql://${DB.user}:${DB.password}@127.0.0.1:${port}/${DB.database}`,
      rootUrl: `mysql://root@127.0.0.1:${port}/${DB.database}`,
      host: '127.0.0.1',
      port,
      ...DB,
      socketPath,
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
        current = await launch(port);
      },
    };
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

async function canConnect(port: number): Promise<boolean> {
  const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: DB.user, password: DB.password, database: DB.database, connectTimeout: 2000 });
  try {
    await connection.query('SELECT 1');
    return true;
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}
