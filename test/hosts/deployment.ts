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
// Each process runs in its own temporary directory, is killed at exit should a test forget stop(),
// and the namespaces go with network.remove().

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { canConnect, copyDataTemplate, DB, mariadbdArgs } from '../servers/mariadb.ts';
import { findBinary, makeTempDir, removeTempDir, spawnManaged, stopProcess, waitUntil, type ManagedProcess } from '../servers/process.ts';
import { REDIS_CLI_MISSING_MESSAGE } from '../servers/redis-cluster.ts';
import { launchRedis, redisCommand, redisServerBinary } from '../servers/redis.ts';
import { TestNetwork, type TestHost } from './network.ts';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

const API_PORT = 5000;
export const REDIS_PORTS = [7001, 7002] as const;
const MARIADB_PORT = 3306;
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

  constructor(host: TestHost, dir: string, env: Record<string, string>) {
    this.host = host;
    this.url = `http://${host.address}:${API_PORT}`;
    this.#dir = dir;
    this.#env = env;
  }

  /** Starts it (again); resolves once /healthz answers 200. */
  async start(): Promise<void> {
    const env = Object.entries({ HOST: '0.0.0.0', PORT: String(API_PORT), LOG_REQUESTS: 'false', ...this.#env }).map(([k, v]) => `${k}=${v}`);
    const [command, args] = this.host.wrap('env', [...env, process.execPath, '--max-semi-space-size=8', path.join(ROOT, 'server', 'main.ts')]);
    const proc = spawnManaged(`server on ${this.host.name}`, command, args, { cwd: this.#dir, outputFile: path.join(this.#dir, 'server.log'), marker: this.#dir });
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

  constructor(host: TestHost, dir: string, mariadbd: string, args: string[]) {
    this.host = host;
    this.dir = dir;
    this.#mariadbd = mariadbd;
    this.#args = args;
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
    await waitUntil(`Galera node ${this.host.name} to be Synced`, this.#proc, async () => (await canConnect(MARIADB_PORT, this.host.address)) && (await this.status('wsrep_local_state_comment')) === 'Synced', { timeoutMs: 120_000, intervalMs: 250 });
  }

  async status(name: string): Promise<string | undefined> {
    const connection = await mysql.createConnection({ host: this.host.address, port: MARIADB_PORT, user: DB.user, password: DB.password, connectTimeout: 2000 });
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
  #proc: ManagedProcess | undefined;

  constructor(host: TestHost, port: number, dir: string) {
    this.host = host;
    this.port = port;
    this.#dir = dir;
  }

  get address(): string {
    return `${this.host.address}:${this.port}`;
  }

  /** Starts it (again, with its nodes.conf and AOF); resolves once it answers PING. */
  async start(): Promise<void> {
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(this.#dir, 'nodes.conf'), '--cluster-node-timeout', '5000', '--appendonly', 'yes', '--appendfsync', 'everysec'];
    this.#proc = await launchRedis(redisServerBinary(), this.#dir, this.port, args, 30_000, { host: this.host.address, wrap: (command, commandArgs) => this.host.wrap(command, commandArgs) });
  }

  command(...args: string[]): Promise<string> {
    return redisCommand(this.port, args, 2000, this.host.address);
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

  constructor(network: TestNetwork, dir: string, parts: { api: ApiServer[]; redis: RedisNode[]; galera: GaleraNode[]; adminToken: string }) {
    this.network = network;
    this.adminToken = parts.adminToken;
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
    const galera = await startGalera(dir, dbHosts);
    const redis = await startRedisCluster(dir, redisHosts);
    const api = await Promise.all(
      apiHosts.map(async (host, i) => {
        const hostDir = path.join(dir, host.name);
        await fsp.mkdir(hostDir);
        return new ApiServer(host, hostDir, {
          WORKERS: '2',
          DATA_INTERFACE: 'mariadb-redis',
          MARIADB_URL: `mysql://${DB.user}:${DB.password}@${databaseAddress}:${MARIADB_PORT}/${DB.database}`,
          // Each host's seed is another Redis host; the client finds the rest of the cluster.
          REDIS_URL: `redis://${(redis[i] as RedisNode).address}`,
          PARTITIONS: String(PARTITIONS),
          ADMIN_TOKEN: adminToken,
        });
      }),
    );
    // One at a time: the first creates the tables.
    for (const server of api) await server.start();
    return new Deployment(network, dir, { api, redis, galera, adminToken });
  } catch (error) {
    await network.remove();
    await removeTempDir(dir);
    throw error;
  }
}

async function startGalera(dir: string, hosts: TestHost[]): Promise<GaleraNode[]> {
  const provider = GALERA_PROVIDERS.find((file) => fs.existsSync(file));
  if (!provider) throw new Error(`${GALERA_MISSING} [looked for ${GALERA_PROVIDERS.join(', ')}]`);
  findBinary(['rsync'], GALERA_MISSING);
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
    const args = mariadbdArgs(nodeDir, {
      port: MARIADB_PORT,
      bindAddress: '0.0.0.0',
      user: 'mysql',
      bufferPoolSize: '64M',
      extraArgs: [
        '--wsrep-on=ON',
        `--wsrep-provider=${provider}`,
        `--wsrep-cluster-address=gcomm://${hosts.map((h) => h.address).join(',')}`,
        `--wsrep-node-address=${host.address}`,
        `--wsrep-node-name=${host.name}`,
        '--wsrep-cluster-name=vowel-analytics',
        '--wsrep-sst-method=rsync',
        // Reads wait until the node has applied every write-set it received: after a switch, the
        // new primary answers a batch's in-doubt check with what the old one committed.
        '--wsrep-sync-wait=1',
        '--binlog-format=ROW',
        '--innodb-autoinc-lock-mode=2',
      ],
    });
    nodes.push(new GaleraNode(host, nodeDir, mariadbd, args));
  }
  // The first starts the cluster; the others join one after the other (each is sent a copy).
  for (const [i, node] of nodes.entries()) await node.start(i === 0);
  return nodes;
}

async function startRedisCluster(dir: string, hosts: TestHost[]): Promise<RedisNode[]> {
  const cli = findBinary(['redis-cli'], REDIS_CLI_MISSING_MESSAGE);
  const nodes: RedisNode[] = [];
  // Masters first (one per host), then the replicas: redis-cli puts a replica on another host than its master.
  for (const port of REDIS_PORTS) {
    for (const host of hosts) {
      const nodeDir = path.join(dir, `${host.name}-${port}`);
      await fsp.mkdir(nodeDir);
      const node = new RedisNode(host, port, nodeDir);
      await node.start();
      nodes.push(node);
    }
  }
  const addresses = nodes.map((node) => node.address);
  await execFileAsync(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }).catch((error: Error & { stdout?: string }) => {
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
