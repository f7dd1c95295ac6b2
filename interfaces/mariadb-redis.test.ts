// The contract suites, unchanged, on mariadb-redis: once on a single Redis server and once on a
// local three-master Redis Cluster (the interface finds out which by asking the server).

import { afterAll, beforeAll } from 'vitest';
import { startMariadb, type MariadbServer } from '../test/servers/mariadb.ts';
import { startRedisCluster, type RedisCluster } from '../test/servers/redis-cluster.ts';
import { startRedis, type RedisServer } from '../test/servers/redis.ts';
import { openFresh } from './mariadb-redis/fresh.ts';
import { dataInterfaceContract } from './testing/contract-suite.ts';
import { httpContract } from './testing/http-contract.ts';

let mariadb: MariadbServer;
let redis: RedisServer;
let cluster: RedisCluster;

beforeAll(async () => {
  [mariadb, redis, cluster] = await Promise.all([startMariadb(), startRedis(), startRedisCluster()]);
});
afterAll(async () => {
  await Promise.all([mariadb?.stop(), redis?.stop(), cluster?.stop()]);
});

const onRedis = () => openFresh({ adminUrl: mariadb.rootUrl, redisUrl: redis.url });
const onCluster = () => openFresh({ adminUrl: mariadb.rootUrl, redisUrl: cluster.url });

dataInterfaceContract('mariadb-redis', onRedis);
httpContract('mariadb-redis', onRedis);
dataInterfaceContract('mariadb-redis on Redis Cluster', onCluster);
httpContract('mariadb-redis on Redis Cluster', onCluster);
