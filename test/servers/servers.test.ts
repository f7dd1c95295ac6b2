// Smoke test of the throwaway servers the integration tests use. Missing binaries make these tests
// fail (with the install hint), never skip.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster, Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { MARIADB_MISSING_MESSAGE, startMariadb } from './mariadb.ts';
import { findBinary, liveServerPids, MissingBinaryError, processesUsing } from './process.ts';
import { startRedisCluster } from './redis-cluster.ts';
import { startRedis } from './redis.ts';

const timings: string[] = [];

async function timed<T>(label: string, start: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await start();
  timings.push(`${label}: ${Math.round(performance.now() - t0)} ms`);
  return result;
}

function expectGone(pids: readonly (number | undefined)[], dir: string): void {
  for (const pid of pids) {
    expect(pid).toBeTypeOf('number');
    expect(() => process.kill(pid as number, 0), `process ${pid} is still alive`).toThrow();
  }
  expect(fs.existsSync(dir), `${dir} was not removed`).toBe(false);
  expect(processesUsing(dir), `processes still running from ${dir}`).toEqual([]);
}

function redisClient(url: string): Redis {
  return new Redis(url, { retryStrategy: () => null, maxRetriesPerRequest: 1 });
}

afterAll(() => {
  console.log(`server start-up times:\n  ${timings.join('\n  ')}`);
  expect(liveServerPids()).toEqual([]);
});

describe('binaries', () => {
  it('a missing binary fails with the install hint', () => {
    expect(() => findBinary(['og-test-no-such-binary'], MARIADB_MISSING_MESSAGE)).toThrow(MissingBinaryError);
    expect(() => findBinary(['og-test-no-such-binary'], MARIADB_MISSING_MESSAGE)).toThrow(/run `bash provision\/install\.sh` \(installs mariadb-server\)/);
  });
});

describe('MariaDB', () => {
  it('starts, serves og/og, survives kill -9 + restart, and leaves nothing behind', async () => {
    const db = await timed('MariaDB start (first: includes mariadb-install-db)', () => startMariadb());
    const pids = [db.pid];
    try {
      expect(db.url).toBe(`mysql://og:og@127.0.0.1:${db.port}/og`);
      expect(db.dir.startsWith(path.join(os.tmpdir(), 'og-test-mariadb-'))).toBe(true);
      const conn = await mysql.createConnection(db.url);
      await conn.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB');
      await conn.query('INSERT INTO t VALUES (1, ?)', ['héllo ✓']);
      const [rows] = await conn.query('SELECT v FROM t WHERE id = 1');
      expect(rows).toEqual([{ v: 'héllo ✓' }]);
      await conn.end();

      const root = await mysql.createConnection(db.rootUrl);
      const [who] = await root.query('SELECT CURRENT_USER() AS u');
      expect(who).toEqual([{ u: 'root@127.0.0.1' }]);
      await root.end();

      await db.kill('SIGKILL');
      expect(db.isRunning()).toBe(false);
      await timed('MariaDB restart after kill -9 (crash recovery)', () => db.restart());
      pids.push(db.pid);
      const again = await mysql.createConnection(db.url);
      const [after] = await again.query('SELECT v FROM t WHERE id = 1');
      expect(after).toEqual([{ v: 'héllo ✓' }]);
      await again.end();

      await timed('MariaDB graceful restart', () => db.restart());
      pids.push(db.pid);
    } finally {
      await db.stop();
    }
    expectGone(pids, db.dir);
  });

  it('starts a second server quickly (template copied) and two run side by side', async () => {
    const [a, b] = await timed('2 MariaDB servers in parallel', () => Promise.all([startMariadb(), startMariadb()]));
    try {
      expect(a.port).not.toBe(b.port);
      const ca = await mysql.createConnection(a.url);
      await ca.query('CREATE TABLE only_a (x INT)');
      await ca.end();
      const cb = await mysql.createConnection(b.url);
      const [tables] = await cb.query("SHOW TABLES LIKE 'only_a'");
      expect(tables).toEqual([]);
      await cb.end();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expectGone([], a.dir);
    expectGone([], b.dir);
    const c = await timed('MariaDB start (later: template copied)', () => startMariadb());
    await c.stop();
    expectGone([], c.dir);
  });
});

describe('Redis', () => {
  it('without persistence: write, read, restart on the same port comes back empty', async () => {
    const redis = await timed('Redis start (no persistence)', () => startRedis());
    const pids = [redis.pid];
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      const client = redisClient(redis.url);
      await client.set('k', 'v');
      expect(await client.get('k')).toBe('v');
      client.disconnect();

      await timed('Redis restart (no persistence)', () => redis.restart());
      pids.push(redis.pid);
      const after = redisClient(redis.url);
      expect(await after.get('k')).toBeNull();
      expect(await after.dbsize()).toBe(0);
      await after.set('k2', 'v2');
      await redis.flushAll();
      expect(await after.dbsize()).toBe(0);
      after.disconnect();
    } finally {
      await redis.stop();
    }
    expectGone(pids, redis.dir);
  });

  it('with persistence: the data survives a restart and a kill -9', async () => {
    const redis = await timed('Redis start (persistence)', () => startRedis({ persistence: true }));
    const pids = [redis.pid];
    try {
      const client = redisClient(redis.url);
      await client.set('k', 'v');
      client.disconnect();

      await redis.restart();
      pids.push(redis.pid);
      const afterRestart = redisClient(redis.url);
      expect(await afterRestart.get('k')).toBe('v');
      await afterRestart.hset('h', 'f', '1');
      afterRestart.disconnect();

      await redis.kill('SIGKILL');
      expect(redis.isRunning()).toBe(false);
      await timed('Redis restart after kill -9 (persistence)', () => redis.restart());
      pids.push(redis.pid);
      const afterKill = redisClient(redis.url);
      expect(await afterKill.get('k')).toBe('v');
      expect(await afterKill.hget('h', 'f')).toBe('1');
      afterKill.disconnect();
    } finally {
      await redis.stop();
    }
    expectGone(pids, redis.dir);
  });

  it('a frozen server (SIGSTOP) times out clients and thaws with SIGCONT', async () => {
    const redis = await startRedis();
    try {
      await redis.kill('SIGSTOP');
      const client = new Redis(redis.url, { retryStrategy: () => null, maxRetriesPerRequest: 0, commandTimeout: 300, connectTimeout: 300 });
      client.on('error', () => undefined);
      await expect(client.ping()).rejects.toThrow();
      client.disconnect();
      await redis.kill('SIGCONT');
      expect(await redis.command('PING')).toBe('PONG');
    } finally {
      await redis.stop(); // also thaws a stopped process before terminating it
    }
    expectGone([], redis.dir);
  });
});

describe('Redis Cluster', () => {
  it('three masters: cluster_state ok, writes spread over the slots, read back, nothing left', async () => {
    const cluster = await timed('Redis Cluster start (3 masters)', () => startRedisCluster());
    const pids = cluster.pids;
    try {
      expect(cluster.nodes).toHaveLength(3);
      expect(pids).toHaveLength(3);
      expect(cluster.url).toBe(`redis://127.0.0.1:${cluster.nodes[0]?.port}`);
      const client = new Cluster(cluster.nodes, { clusterRetryStrategy: () => null });
      const keys = Array.from({ length: 30 }, (_, i) => `key:${i}`);
      for (const key of keys) await client.set(key, key.toUpperCase());
      for (const key of keys) expect(await client.get(key)).toBe(key.toUpperCase());
      // The keys landed on every master.
      const sizes = await Promise.all(cluster.nodes.map(async (node) => {
        const direct = redisClient(`redis://${node.host}:${node.port}`);
        const size = await direct.dbsize();
        direct.disconnect();
        return size;
      }));
      expect(sizes.every((n) => n > 0)).toBe(true);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(keys.length);
      await cluster.flushAll();
      expect(await client.get('key:0')).toBeNull();
      client.disconnect();
    } finally {
      await cluster.stop();
    }
    expectGone(pids, cluster.dir);
  });
});
