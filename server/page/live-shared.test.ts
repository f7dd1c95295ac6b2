// Several server processes on one mariadb-redis backend: each computes its own live updates from
// the shared aggregates, so a page on any of them sees the writes made through all of them.
// (Two apps in this process, each with its own connections, stand for two server processes.)

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MariadbRedisInterface } from '../../interfaces/mariadb-redis/index.ts';
import { startMariadb, type MariadbServer } from '../../test/servers/mariadb.ts';
import { startRedis, type RedisServer } from '../../test/servers/redis.ts';
import { createApp } from '../app.ts';
import { lastUpdate, listen } from './stream-listener.ts';

describe('live dashboard on a shared mariadb-redis backend', () => {
  let mariadb: MariadbServer;
  let redis: RedisServer;
  const interfaces: MariadbRedisInterface[] = [];
  const servers: Server[] = [];
  const origins: string[] = [];

  beforeAll(async () => {
    [mariadb, redis] = await Promise.all([startMariadb(), startRedis()]);
    const admin = await createConnection(mariadb.rootUrl);
    await admin.query('CREATE DATABASE og_live');
    await admin.end();
    const mariadbUrl = new URL(mariadb.rootUrl);
    mariadbUrl.pathname = '/og_live';
    for (let i = 0; i < 2; i++) {
      const data = await MariadbRedisInterface.open({ mariadbUrl: mariadbUrl.toString(), redisUrl: redis.url, keyPrefix: 'og_live:' });
      interfaces.push(data);
      const server = createApp({ data }).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      servers.push(server);
      origins.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await Promise.all(interfaces.map((data) => data.close()));
    await Promise.all([mariadb?.stop(), redis?.stop()]);
  });

  it("shows every process's writes on every process's stream", async () => {
    const listeners = await Promise.all(origins.map((origin) => listen(`${origin}/dashboard/live`)));
    const countsOf = (letter: string) =>
      listeners.map((listener) => (lastUpdate(listener) as { symbol: string; count: number }[] | undefined)?.find((a) => a.symbol === letter)?.count);
    await vi.waitFor(() => expect(countsOf('e')).toEqual([0, 0]));

    for (const origin of origins) {
      const response = await fetch(`${origin}/initial?uuid=${randomUUID()}&symbol=e`, { method: 'POST' });
      expect(response.status).toBe(200);
    }
    await vi.waitFor(() => expect(countsOf('e')).toEqual([2, 2]), { timeout: 5000 });
    for (const listener of listeners) listener.close();
  });
});
