// A throwaway Redis Cluster for tests: three masters, no replicas, on 127.0.0.1. Each node is a
// redis-server (cluster-enabled, no persistence) in its own folder of one temporary directory, on a
// free port whose cluster bus port (port + 10000) is free too. The cluster is created with
// `redis-cli --cluster create` and is ready when every node reports cluster_state:ok.
//
//   const cluster = await startRedisCluster();
//   const client = new Cluster(cluster.nodes);
//   ...
//   await cluster.stop();

import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  findBinary,
  freePort,
  looksLikePortInUse,
  makeTempDir,
  removeTempDir,
  ServerStartError,
  stopProcess,
  waitUntil,
  type ManagedProcess,
} from './process.ts';
import { launchRedis, redisCommand, redisServerBinary } from './redis.ts';

const execFileAsync = promisify(execFile);

export const REDIS_CLI_MISSING_MESSAGE = 'redis-cli not found: run `bash provision/install.sh` (installs redis-tools)';

export interface RedisClusterOptions {
  /** Masters (default 3, the fewest redis-cli --cluster create accepts). */
  masters?: number;
  /** How long the whole start may take before it fails (default 60 s). */
  startTimeoutMs?: number;
}

export interface RedisClusterNode {
  host: string;
  port: number;
}

export interface RedisCluster {
  /** The masters, for `new Cluster(nodes)`. */
  readonly nodes: RedisClusterNode[];
  /** One seed node: redis://127.0.0.1:PORT */
  readonly url: string;
  /** The temporary directory (one folder per node); removed by stop(). */
  readonly dir: string;
  /** Pids of the running nodes. */
  readonly pids: number[];
  /** Stops every node (SIGTERM, SIGKILL after 20 s) and removes the directory. Idempotent. */
  stop(): Promise<void>;
  /** FLUSHALL on every master. */
  flushAll(): Promise<void>;
}

/** Starts a fresh cluster; resolves when every node says cluster_state:ok. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  const server = redisServerBinary();
  const cli = findBinary(['redis-cli'], REDIS_CLI_MISSING_MESSAGE);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;

  const dir = await makeTempDir('redis-cluster');
  const procs: ManagedProcess[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const nodeDir = path.join(dir, `node${i}`);
      await fsp.mkdir(nodeDir);
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(nodeDir, 'nodes.conf'), '--cluster-node-timeout', '5000', '--appendonly', 'no'];
      for (let attempt = 1; ; attempt++) {
        // Neither the port nor its bus port may clash with a node started already (not yet bound, maybe).
        const port = await freePort({ companions: (p) => [p + 10000], avoid: ports.flatMap((p) => [p, p + 10000]) });
        try {
          procs.push(await launchRedis(server, nodeDir, port, args, Math.max(1000, deadline - Date.now())));
          ports.push(port);
          break;
        } catch (error) {
          if (!(error instanceof ServerStartError && error.exitedEarly && looksLikePortInUse(error.log) && attempt < 5)) throw error;
        }
      }
    }

    const addresses = ports.map((p) => `127.0.0.1:${p}`);
    try {
      await execFileAsync(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: Math.max(1000, deadline - Date.now()),
        env: { ...process.env, NO_COLOR: '1' },
      });
    } catch (error) {
      const e = error as Error & { stdout?: string; stderr?: string };
      throw new Error(`redis-cli --cluster create ${addresses.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: error });
    }

    for (const [i, proc] of procs.entries()) {
      const port = ports[i] as number;
      await waitUntil(
        `cluster_state:ok on 127.0.0.1:${port}`,
        proc,
        async () => {
          const info = await redisCommand(port, ['CLUSTER', 'INFO'], 1000);
          return /cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${masters}\\b`).test(info) && /cluster_slots_ok:16384\b/.test(info);
        },
        { timeoutMs: Math.max(1000, deadline - Date.now()) },
      );
    }
  } catch (error) {
    await Promise.all(procs.map((p) => stopProcess(p, { signal: 'SIGKILL' })));
    await removeTempDir(dir);
    throw error;
  }

  let stopped = false;
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    url: `redis://127.0.0.1:${ports[0]}`,
    dir,
    get pids() {
      return procs.filter((p) => !p.exitInfo).map((p) => p.pid);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(procs.map((p) => stopProcess(p)));
      await removeTempDir(dir);
    },
    async flushAll() {
      await Promise.all(ports.map((port) => redisCommand(port, ['FLUSHALL'])));
    },
  };
}
