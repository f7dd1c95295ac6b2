// A small deployment of the service over test hosts (network.ts), all from Debian's packages:
//
//   api1..api3   198.18.0.11-13  the server (`npm start`, WORKERS=2, mariadb-redis) on :5000
//   redis1..3    198.18.0.21-23  Redis Cluster: a master on :7001 and a replica of another
//                                host's master on :7002 each (redis-cli --cluster create picks)
//   db1..db3     198.18.0.31-33  MariaDB Galera (galera-4): three nodes, synchronous, rsync SST
//   the database 198.18.0.30     the address every API host writes through, held by one Galera
//                                node at a time (Galera's row locks are not cluster-wide, and the
//                                batch transaction relies on its partition's row lock)
//
// Nothing crosses the bridge in clear text but the API's HTTP, and no one gets in without
// credentials: a CA made for the run (provision/tls.sh) signs a certificate per host. MariaDB
// requires TLS (require_secure_transport), Galera replicates over TLS (socket.ssl) and sends state
// transfers through stunnel; Redis listens on TLS ports only, its replication and cluster bus are
// TLS, and every connection needs a client certificate of the CA (tls-auth-clients). Passwords are
// random per run: the service's MariaDB user `og` has only provision/mariadb-privileges.txt on its
// database, its Redis user only provision/redis-acl.txt; Redis's `default` user is off, and the
// administrators (MariaDB's og_admin, Redis's admin) are the test's.
//
// Each process runs in its own temporary directory, is killed at exit should a test forget stop(),
// and the namespaces go with network.remove().

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { serviceMariadbPrivileges, serviceRedisRules } from '../servers/least-privilege.ts';
import { canConnect, copyDataTemplate, DB, mariadbdArgs, type MariadbAccess } from '../servers/mariadb.ts';
import { findBinary, makeTempDir, removeTempDir, spawnManaged, stopProcess, waitUntil, type ManagedProcess } from '../servers/process.ts';
import { REDIS_CLI_MISSING_MESSAGE } from '../servers/redis-cluster.ts';
import { launchRedis, redisCommand, redisServerBinary, type RedisAccess } from '../servers/redis.ts';
import { issueCertificate } from '../servers/tls.ts';
import { TestNetwork, type TestHost } from './network.ts';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

const API_PORT = 5000;
export const REDIS_PORTS = [7001, 7002] as const;
export const MARIADB_PORT = 3306;
const STUNNEL_MISSING = 'stunnel not found: run `bash provision/install.sh` (installs stunnel4, for Galera\'s TLS state transfers)';

/** The run's CA, certificates and passwords: what the hosts are given, and the test's own access. */
export interface Secrets {
  /** The folder of provision/tls.sh: ca.crt, and NAME.crt and NAME.key per host. */
  tlsDir: string;
  /** The service's MariaDB user og, and its Redis user og. */
  mariadbPassword: string;
  redisPassword: string;
  /** The test's: MariaDB's og_admin, Redis's admin. */
  mariadbAdminPassword: string;
  redisAdminPassword: string;
}

const secret = () => randomBytes(18).toString('hex');
const tlsFile = (secrets: Secrets, file: string) => path.join(secrets.tlsDir, file);

/** The test's TLS options for a host's server (the run's CA; `as`: a client certificate). */
export function clientTls(secrets: Secrets, as?: string): { ca: Buffer; cert?: Buffer; key?: Buffer } {
  const ca = fs.readFileSync(tlsFile(secrets, 'ca.crt'));
  return as ? { ca, cert: fs.readFileSync(tlsFile(secrets, `${as}.crt`)), key: fs.readFileSync(tlsFile(secrets, `${as}.key`)) } : { ca };
}

/** The test's own access to MariaDB (og_admin, over TLS). */
const mariadbAdmin = (secrets: Secrets): MariadbAccess => ({ user: 'og_admin', password: secrets.mariadbAdminPassword, ssl: { ...clientTls(secrets), rejectUnauthorized: true } });

/** The test's own access to Redis (admin, over TLS with its client certificate). */
export const redisAdmin = (secrets: Secrets): RedisAccess => ({ tls: clientTls(secrets, 'ops'), user: 'admin', password: secrets.redisAdminPassword });
const DATABASE_LINK = 'dbvip';
const GALERA_MISSING = 'galera-4 not found: run `bash provision/install.sh` (installs galera-4 and rsync)';
const GALERA_PROVIDERS = ['/usr/lib/galera/libgalera_smm.so', '/usr/lib/libgalera_smm.so'];
/** More partitions than processes (6), so that restarted ones find a free one while leases of the killed run out. */
const PARTITIONS = 16;

/** The server on one API host. */
export class ApiServer {
  readonly host: TestHost;
  readonly url: string;
  readonly #dir: string;
  readonly #env: Record<string, string>;
  #proc: ManagedProcess | undefined;

  /** What the server wrote (pino's JSON lines, and anything on stderr). */
  get logFile(): string {
    return path.join(this.#dir, 'server.log');
  }

  constructor(host: TestHost, dir: string, env: Record<string, string>) {
    this.host = host;
    this.url = `http://${host.address}:${API_PORT}`;
    this.#dir = dir;
    this.#env = env;
  }

  /** Starts it (again); resolves once /healthz answers 200. */
  async start(): Promise<void> {
    // In the environment, not on the command line: passwords stay out of `ps`.
    const env = { HOST: '0.0.0.0', PORT: String(API_PORT), LOG_REQUESTS: 'false', ...this.#env };
    const [command, args] = this.host.wrap(process.execPath, ['--max-semi-space-size=8', path.join(ROOT, 'server', 'main.ts')]);
    const proc = spawnManaged(`server on ${this.host.name}`, command, args, { cwd: this.#dir, outputFile: this.logFile, marker: this.#dir, env });
    this.#proc = proc;
    await waitUntil(`${this.url}/healthz`, proc, () => fetch(`${this.url}/healthz`).then((r) => r.ok), { timeoutMs: 60_000, intervalMs: 200 });
  }

  /** kill -9 of the whole host (the primary and its server processes). */
  async kill(): Promise<void> {
    await this.host.killAll();
    await this.#proc?.exited;
  }
}

/** One Galera node. */
export class GaleraNode {
  readonly host: TestHost;
  readonly dir: string;
  readonly #args: string[];
  readonly #mariadbd: string;
  #proc: ManagedProcess | undefined;
  /** How the test logs in: og/og of the data template until the deployment made its administrator. */
  access: MariadbAccess;

  constructor(host: TestHost, dir: string, mariadbd: string, args: string[], access: MariadbAccess) {
    this.host = host;
    this.dir = dir;
    this.#mariadbd = mariadbd;
    this.#args = args;
    this.access = access;
  }

  /** Starts the node (`bootstrap`: as the first of a new cluster); resolves once it is Synced. */
  async start(bootstrap: boolean): Promise<void> {
    const [command, args] = this.host.wrap(this.#mariadbd, [...this.#args, ...(bootstrap ? ['--wsrep-new-cluster'] : [])]);
    this.#proc = spawnManaged(`mariadbd on ${this.host.name}`, command, args, {
      cwd: this.dir,
      outputFile: path.join(this.dir, 'mariadbd.out'),
      marker: this.dir,
      logFiles: [path.join(this.dir, 'error.log')],
    });
    // A joiner receives the whole data directory first (SST), then catches up.
    await waitUntil(`Galera node ${this.host.name} to be Synced`, this.#proc, async () => (await canConnect(MARIADB_PORT, this.host.address, this.access)) && (await this.status('wsrep_local_state_comment')) === 'Synced', { timeoutMs: 120_000, intervalMs: 250 });
  }

  async status(name: string): Promise<string | undefined> {
    const connection = await mysql.createConnection({ host: this.host.address, port: MARIADB_PORT, ...this.access, connectTimeout: 2000 });
    try {
      const [rows] = await connection.query<mysql.RowDataPacket[]>('SHOW GLOBAL STATUS LIKE ?', [name]);
      return rows[0]?.Value as string | undefined;
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
  }

  async kill(): Promise<void> {
    if (this.#proc) await stopProcess(this.#proc, { signal: 'SIGKILL' });
  }
}

/** One Redis Cluster node. */
export class RedisNode {
  readonly host: TestHost;
  readonly port: number;
  readonly #dir: string;
  readonly #config: string;
  readonly #access: RedisAccess;
  #proc: ManagedProcess | undefined;

  constructor(host: TestHost, port: number, dir: string, config: string, access: RedisAccess) {
    this.host = host;
    this.port = port;
    this.#dir = dir;
    this.#config = config;
    this.#access = access;
  }

  get address(): string {
    return `${this.host.address}:${this.port}`;
  }

  /** Starts it (again, with its nodes.conf and AOF); resolves once it answers PING. */
  async start(): Promise<void> {
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(this.#dir, 'nodes.conf'), '--cluster-node-timeout', '5000', '--appendonly', 'yes', '--appendfsync', 'everysec'];
    this.#proc = await launchRedis(redisServerBinary(), this.#dir, this.port, args, 30_000, {
      host: this.host.address,
      wrap: (command, commandArgs) => this.host.wrap(command, commandArgs),
      configFile: this.#config,
      access: this.#access,
    });
  }

  /** A command as the test's administrator. */
  command(...args: string[]): Promise<string> {
    return redisCommand(this.port, args, 2000, this.host.address, this.#access);
  }

  async isMaster(): Promise<boolean> {
    return /^role:master\b/m.test(await this.command('INFO', 'replication'));
  }

  async kill(): Promise<void> {
    if (this.#proc) await stopProcess(this.#proc, { signal: 'SIGKILL' });
  }
}

export class Deployment {
  readonly network: TestNetwork;
  readonly dir: string;
  readonly api: ApiServer[];
  readonly redis: RedisNode[];
  readonly galera: GaleraNode[];
  /** The Galera node that holds the database address. */
  primary: GaleraNode;
  /** The servers' ADMIN_TOKEN (GET /events from another host). */
  readonly adminToken: string;
  readonly secrets: Secrets;
  /** The address every API host reaches MariaDB at. */
  readonly databaseAddress: string;

  constructor(network: TestNetwork, dir: string, parts: { api: ApiServer[]; redis: RedisNode[]; galera: GaleraNode[]; adminToken: string; secrets: Secrets; databaseAddress: string }) {
    this.network = network;
    this.adminToken = parts.adminToken;
    this.secrets = parts.secrets;
    this.databaseAddress = parts.databaseAddress;
    this.dir = dir;
    this.api = parts.api;
    this.redis = parts.redis;
    this.galera = parts.galera;
    this.primary = parts.galera[0] as GaleraNode;
  }

  /** The runbook's switch: the database address (with its link) moves to `to`; API hosts follow by themselves. */
  async switchDatabase(to: GaleraNode): Promise<void> {
    await this.network.moveAddress(DATABASE_LINK, to.host);
    this.primary = to;
  }

  /** A bad link between the API hosts and the database: on the database address's link. */
  degradeDatabaseLink(lossPercent: number, rate: string): Promise<void> {
    return this.primary.host.degradeLink(DATABASE_LINK, MARIADB_PORT, lossPercent, rate);
  }

  databaseLinkStats(): ReturnType<TestHost['linkStats']> {
    return this.primary.host.linkStats(DATABASE_LINK);
  }

  healDatabaseLink(): Promise<void> {
    return this.primary.host.healLink(DATABASE_LINK);
  }

  /** Resolves once `nodes` (default all) say cluster_state:ok with every slot served. */
  redisClusterOk(nodes: RedisNode[] = this.redis): Promise<void> {
    return clusterOk(nodes);
  }

  /** Kills everything, removes the namespaces and the files. */
  async stop(): Promise<void> {
    try {
      await this.network.remove();
    } finally {
      await removeTempDir(this.dir);
    }
  }
}

/** Builds the whole deployment; on failure removes what it made. */
export async function startDeployment(): Promise<Deployment> {
  const network = await TestNetwork.create();
  const dir = await makeTempDir('hosts');
  try {
    const hosts = async (kind: string, firstOctet: number) => Promise.all([1, 2, 3].map((i) => network.addHost(`${kind}${i}`, firstOctet + i - 1)));
    const [apiHosts, redisHosts, dbHosts] = [await hosts('api', 11), await hosts('redis', 21), await hosts('db', 31)];
    const databaseAddress = await network.addFloatingAddress(DATABASE_LINK, 30, dbHosts);

    const adminToken = randomBytes(16).toString('hex');
    const secrets = await makeSecrets(dir, { api: apiHosts, redis: redisHosts, db: dbHosts }, databaseAddress);
    const galera = await startGalera(dir, dbHosts, secrets);
    const redis = await startRedisCluster(dir, redisHosts, secrets);
    const api = await Promise.all(
      apiHosts.map(async (host, i) => {
        const hostDir = path.join(dir, host.name);
        await fsp.mkdir(hostDir);
        return new ApiServer(host, hostDir, {
          WORKERS: '2',
          DATA_INTERFACE: 'mariadb-redis',
          MARIADB_URL: `mysql://${DB.user}:${secrets.mariadbPassword}@${databaseAddress}:${MARIADB_PORT}/${DB.database}`,
          MARIADB_TLS_CA: tlsFile(secrets, 'ca.crt'),
          // Each host's seed is another Redis host; the client finds the rest of the cluster.
          REDIS_URL: `rediss://og:${secrets.redisPassword}@${(redis[i] as RedisNode).address}`,
          REDIS_TLS_CA: tlsFile(secrets, 'ca.crt'),
          REDIS_TLS_CERT: tlsFile(secrets, `${host.name}.crt`),
          REDIS_TLS_KEY: tlsFile(secrets, `${host.name}.key`),
          PARTITIONS: String(PARTITIONS),
          ADMIN_TOKEN: adminToken,
        });
      }),
    );
    // One at a time: the first creates the tables.
    for (const server of api) await server.start();
    return new Deployment(network, dir, { api, redis, galera, adminToken, secrets, databaseAddress });
  } catch (error) {
    await network.remove();
    await removeTempDir(dir);
    throw error;
  }
}

/**
 * The run's CA and a certificate per host (provision/tls.sh; a Galera node's names the database
 * address too, which it may hold), one for the test itself (`ops`), and the passwords.
 */
async function makeSecrets(dir: string, hosts: { api: TestHost[]; redis: TestHost[]; db: TestHost[] }, databaseAddress: string): Promise<Secrets> {
  const tlsDir = path.join(dir, 'tls');
  // Keys readable by their server's user only: root's (the test's, Redis's, the API's), mysql's.
  await issueCertificate(tlsDir, 'ops', ['198.18.0.1'], 'root');
  for (const host of [...hosts.api, ...hosts.redis]) await issueCertificate(tlsDir, host.name, [host.address], 'root');
  // mariadbd and its SST script (stunnel) run as mysql.
  for (const host of hosts.db) await issueCertificate(tlsDir, host.name, [host.address, databaseAddress], 'mysql');
  return { tlsDir, mariadbPassword: secret(), redisPassword: secret(), mariadbAdminPassword: secret(), redisAdminPassword: secret() };
}

async function startGalera(dir: string, hosts: TestHost[], secrets: Secrets): Promise<GaleraNode[]> {
  const provider = GALERA_PROVIDERS.find((file) => fs.existsSync(file));
  if (!provider) throw new Error(`${GALERA_MISSING} [looked for ${GALERA_PROVIDERS.join(', ')}]`);
  findBinary(['rsync'], GALERA_MISSING);
  findBinary(['stunnel'], STUNNEL_MISSING);
  // mariadbd runs as mysql (Debian's mariadb-server creates the user), as rsync's SST daemon does.
  await fsp.chmod(dir, 0o755);
  const nodes: GaleraNode[] = [];
  for (const host of hosts) {
    const nodeDir = path.join(dir, host.name);
    await fsp.mkdir(nodeDir);
    const mariadbd = await copyDataTemplate(nodeDir);
    await execFileAsync('chown', ['-R', 'mysql:mysql', nodeDir]).catch((error: Error) => {
      throw new Error(`chown mysql ${nodeDir} failed (is mariadb-server installed? it creates the mysql user): ${error.message}`);
    });
    // TLS for clients, and for state transfers: the SST script reads its files (ssl-ca: stunnel
    // verifies the peer against the CA) from the server's defaults file, not its command line.
    const [ca, cert, key] = ['ca.crt', `${host.name}.crt`, `${host.name}.key`].map((file) => tlsFile(secrets, file)) as [string, string, string];
    const defaultsFile = path.join(nodeDir, 'my.cnf');
    await fsp.writeFile(defaultsFile, `[mysqld]\nssl-ca=${ca}\nssl-cert=${cert}\nssl-key=${key}\nrequire-secure-transport=ON\n`);
    const args = mariadbdArgs(nodeDir, {
      port: MARIADB_PORT,
      bindAddress: '0.0.0.0',
      user: 'mysql',
      bufferPoolSize: '64M',
      defaultsFile,
      extraArgs: [
        '--wsrep-on=ON',
        `--wsrep-provider=${provider}`,
        `--wsrep-cluster-address=gcomm://${hosts.map((h) => h.address).join(',')}`,
        `--wsrep-node-address=${host.address}`,
        `--wsrep-node-name=${host.name}`,
        '--wsrep-cluster-name=vowel-analytics',
        '--wsrep-sst-method=rsync',
        // Replication and incremental state transfers over TLS, each node's certificate checked.
        `--wsrep-provider-options=socket.ssl=yes;socket.ssl_ca=${ca};socket.ssl_cert=${cert};socket.ssl_key=${key}`,
        // Reads wait until the node has applied every write-set it received: after a switch, the
        // new primary answers a batch's in-doubt check with what the old one committed.
        '--wsrep-sync-wait=1',
        '--binlog-format=ROW',
        '--innodb-autoinc-lock-mode=2',
      ],
    });
    nodes.push(new GaleraNode(host, nodeDir, mariadbd, args, { user: DB.user, password: DB.password, ssl: mariadbAdmin(secrets).ssl }));
  }
  // The first starts the cluster, and gets its users; the others join one after the other (each is
  // sent a copy, users included).
  const [first, ...others] = nodes as [GaleraNode, ...GaleraNode[]];
  await first.start(true);
  await setUpUsers(first, secrets);
  for (const node of nodes) node.access = mariadbAdmin(secrets);
  for (const node of others) await node.start(false);
  return nodes;
}

/**
 * The data template's og/og (every privilege) becomes the service's user with its own password and
 * only what it needs; og_admin, the test's, has the rest. Over the node's socket, as root.
 */
async function setUpUsers(node: GaleraNode, secrets: Secrets): Promise<void> {
  const root = await mysql.createConnection({ socketPath: path.join(node.dir, 'mysqld.sock'), user: 'root', multipleStatements: true });
  try {
    await root.query(
      `CREATE USER og_admin@'%' IDENTIFIED BY ? REQUIRE SSL; GRANT ALL PRIVILEGES ON *.* TO og_admin@'%' WITH GRANT OPTION;
       REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${DB.user}@'%'; GRANT ${serviceMariadbPrivileges()} ON \`${DB.database}\`.* TO ${DB.user}@'%';
       ALTER USER ${DB.user}@'%' IDENTIFIED BY ? REQUIRE SSL`,
      [secrets.mariadbAdminPassword, secrets.mariadbPassword],
    );
  } finally {
    await root.end().catch(() => root.destroy());
  }
}

/**
 * A node's redis.conf (mode 600: the passwords are in it, not on a command line): TLS only, for
 * clients, replication and the cluster bus, every peer with a certificate of the CA; the service's
 * user, the test's admin (whom replicas log in as), and no `default` user.
 */
async function redisConfig(file: string, host: TestHost, secrets: Secrets): Promise<void> {
  const lines = [
    `tls-cert-file ${tlsFile(secrets, `${host.name}.crt`)}`,
    `tls-key-file ${tlsFile(secrets, `${host.name}.key`)}`,
    `tls-ca-cert-file ${tlsFile(secrets, 'ca.crt')}`,
    'tls-auth-clients yes',
    'tls-replication yes',
    'tls-cluster yes',
    'user default off',
    `user og reset ${serviceRedisRules()} >${secrets.redisPassword}`,
    `user admin reset on ~* &* +@all >${secrets.redisAdminPassword}`,
    'masteruser admin',
    `masterauth ${secrets.redisAdminPassword}`,
  ];
  await fsp.writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

async function startRedisCluster(dir: string, hosts: TestHost[], secrets: Secrets): Promise<RedisNode[]> {
  const cli = findBinary(['redis-cli'], REDIS_CLI_MISSING_MESSAGE);
  const nodes: RedisNode[] = [];
  // Masters first (one per host), then the replicas: redis-cli puts a replica on another host than its master.
  for (const port of REDIS_PORTS) {
    for (const host of hosts) {
      const nodeDir = path.join(dir, `${host.name}-${port}`);
      await fsp.mkdir(nodeDir);
      const config = path.join(nodeDir, 'redis.conf');
      await redisConfig(config, host, secrets);
      const node = new RedisNode(host, port, nodeDir, config, redisAdmin(secrets));
      await node.start();
      nodes.push(node);
    }
  }
  const addresses = nodes.map((node) => node.address);
  const tlsArgs = ['--tls', '--cacert', tlsFile(secrets, 'ca.crt'), '--cert', tlsFile(secrets, 'ops.crt'), '--key', tlsFile(secrets, 'ops.key'), '--user', 'admin'];
  // The password in the environment (REDISCLI_AUTH), not on the command line.
  const env = { ...process.env, NO_COLOR: '1', REDISCLI_AUTH: secrets.redisAdminPassword };
  await execFileAsync(cli, [...tlsArgs, '--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000, env }).catch((error: Error & { stdout?: string }) => {
    throw new Error(`redis-cli --cluster create ${addresses.join(' ')} failed: ${error.message}\n${error.stdout ?? ''}`);
  });
  await clusterOk(nodes);
  return nodes;
}

async function clusterOk(nodes: RedisNode[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (const node of nodes) {
    for (;;) {
      const info = await node.command('CLUSTER', 'INFO').catch((error: Error) => error.message);
      if (/cluster_state:ok/.test(info) && /cluster_slots_ok:16384\b/.test(info)) break;
      if (Date.now() > deadline) throw new Error(`Redis node ${node.address} is not cluster_state:ok after 60 s:\n${info}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
