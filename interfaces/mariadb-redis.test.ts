import { afterAll, beforeAll } from 'vitest';
import { startMariadb, type MariadbServer } from '../test/servers/mariadb.ts';
import { startRedis, type RedisServer } from '../test/servers/redis.ts';
import { openFresh } from './mariadb-redis/fresh.ts';
import { httpContract } from './testing/http-contract.ts';

let mariadb: MariadbServer;
let redis: RedisServer;

beforeAll(async () => {
  [mariadb, redis] = await Promise.all([startMariadb(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([mariadb?.stop(), redis?.stop()]);
});

const open = () => openFresh({ adminUrl: mariadb.rootUrl, redisUrl: redis.url });
httpContract('mariadb-redis', open);
