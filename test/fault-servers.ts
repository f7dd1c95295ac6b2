// What a fault suite runs on: fresh MariaDB and Redis servers for each test, and the service on
// them, in process (an interface served by the app on a free port) or as server processes
// (startAppServer with env()).

import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import { MariadbRedisInterface } from '../interfaces/mariadb-redis/index.ts';
import { createApp } from '../server/app.ts';
import { startMariadb, type MariadbServer } from './servers/mariadb.ts';
import { startRedis, type RedisServer } from './servers/redis.ts';

export interface FaultServers {
  /** This test's servers. */
  readonly mariadb: MariadbServer;
  readonly redis: RedisServer;
  /** The environment of a server process on these servers. */
  env(): Record<string, string>;
  /** An interface on these servers, closed after the test. */
  openInterface(options?: { partition?: number; partitions?: number }): Promise<MariadbRedisInterface>;
  /** The app on an interface, on a free port, closed after the test; resolves with its base URL. */
  serve(data: MariadbRedisInterface): Promise<string>;
  /** Runs after the test, before the servers stop; the last registered first. */
  afterTest(cleanup: () => Promise<unknown>): void;
}

/** Call at the top of a test file: every test gets servers of its own. */
export function useFaultServers(): FaultServers {
  const cleanups: (() => Promise<unknown>)[] = [];
  let mariadb: MariadbServer;
  let redis: RedisServer;
  const servers: FaultServers = {
    get mariadb() {
      return mariadb;
    },
    get redis() {
      return redis;
    },
    env: () => ({ DATA_INTERFACE: 'mariadb-redis', MARIADB_URL: mariadb.url, REDIS_URL: redis.url }),
    async openInterface(options = {}) {
      const data = await MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url, ...options });
      cleanups.push(() => data.close());
      return data;
    },
    async serve(data) {
      const server = createApp({ data }).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      cleanups.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    afterTest: (cleanup) => void cleanups.push(cleanup),
  };

  beforeEach(async () => {
    [mariadb, redis] = await Promise.all([startMariadb(), startRedis()]);
  });
  afterEach(async () => {
    // An interface closed by the test itself fails to close again: that is no failure.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await Promise.all([mariadb.stop(), redis.stop()]);
  });
  return servers;
}
