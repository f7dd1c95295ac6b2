// For tests and benchmarks: an empty mariadb-redis interface on throwaway servers, isolated by
// its own database and its own Redis key prefix, so one pair of servers serves many tests.

import { createConnection } from 'mysql2/promise';
import { MariadbRedisInterface, type MariadbRedisOptions } from './index.ts';

let opened = 0;

export interface FreshTarget {
  /** A MariaDB URL whose user may create databases (the database part is replaced). */
  adminUrl: string;
  redisUrl: string;
}

/** Creates database og_<pid>_<n>, and opens the interface on it with the key prefix `og_<pid>_<n>:`. */
export async function openFresh(target: FreshTarget, options: Partial<MariadbRedisOptions> = {}): Promise<MariadbRedisInterface> {
  const name = `og_${process.pid}_${++opened}`;
  const admin = await createConnection(target.adminUrl);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(target.adminUrl);
  url.pathname = `/${name}`;
  return MariadbRedisInterface.open({ mariadbUrl: url.toString(), redisUrl: target.redisUrl, keyPrefix: `${name}:`, ...options });
}
