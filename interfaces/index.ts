// Picks and opens a data interface by name. Each one is imported only when chosen, so running
// `sqlite` never loads the MariaDB, Redis or Elasticsearch clients, and a production install can leave out
// better-sqlite3 (an optional dependency: `npm ci --omit=optional` builds no native addon).

import type { DataInterface } from './contract.ts';
import type { BackendTls } from './mariadb-redis/tls.ts';

export const INTERFACE_NAMES = ['null', 'sqlite', 'mariadb-redis', 'elasticsearch'] as const;
export type InterfaceName = (typeof INTERFACE_NAMES)[number];

export interface InterfaceOptions {
  name: InterfaceName;
  /** sqlite: the database file (created with its folder on first open), or ':memory:'. */
  sqlitePath: string;
  /** mariadb-redis: where the raw events live, e.g. mysql://og:og@127.0.0.1:3306/og */
  mariadbUrl: string;
  /** mariadb-redis: where the aggregates live, e.g. redis://127.0.0.1:6379 */
  redisUrl: string;
  /** mariadb-redis and elasticsearch: no request waits on the backend longer (ms); then a 503. */
  deadlineMs: number;
  /** elasticsearch: the node, e.g. http://127.0.0.1:9200 (the index is `events`). */
  elasticsearchUrl: string;
  /** mariadb-redis: how many partitions writers claim (default 8, at most 256: mariadb-redis/partitions.ts); at least the deployment's writing processes. */
  partitions?: number;
  /** mariadb-redis: TLS files per store (mariadb-redis/tls.ts). */
  tls?: BackendTls;
}

export function isInterfaceName(value: string): value is InterfaceName {
  return (INTERFACE_NAMES as readonly string[]).includes(value);
}

export async function openInterface(options: InterfaceOptions): Promise<DataInterface> {
  switch (options.name) {
    case 'null': {
      const { NullInterface } = await import('./null.ts');
      return new NullInterface();
    }
    case 'sqlite': {
      const { SqliteInterface } = await import('./sqlite.ts').catch((error: unknown) => {
        throw isMissingPackage(error, 'better-sqlite3')
          ? new Error('the sqlite interface needs better-sqlite3, which this install left out (npm ci --omit=optional): run `npm install better-sqlite3`, or choose DATA_INTERFACE=mariadb-redis', { cause: error })
          : error;
      });
      return SqliteInterface.open(options.sqlitePath);
    }
    case 'mariadb-redis': {
      const { MariadbRedisInterface } = await import('./mariadb-redis/index.ts');
      return MariadbRedisInterface.open({ mariadbUrl: options.mariadbUrl, redisUrl: options.redisUrl, deadlineMs: options.deadlineMs, partitions: options.partitions, tls: options.tls });
    }
    case 'elasticsearch': {
      const { ElasticsearchInterface } = await import('./elasticsearch/index.ts');
      return ElasticsearchInterface.open({ url: options.elasticsearchUrl, deadlineMs: options.deadlineMs });
    }
  }
}

function isMissingPackage(error: unknown, name: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && error.message.includes(`'${name}'`);
}
