// Picks and opens a data interface by name. Each one is imported only when chosen, so running
// `sqlite` never loads the MariaDB or Redis drivers.

import type { DataInterface } from './contract.ts';

export const INTERFACE_NAMES = ['null', 'sqlite', 'mariadb-redis'] as const;
export type InterfaceName = (typeof INTERFACE_NAMES)[number];

export interface InterfaceOptions {
  name: InterfaceName;
  /** sqlite: the database file (created with its folder on first open), or ':memory:'. */
  sqlitePath: string;
  /** mariadb-redis: where the raw events live, e.g. mysql://og:og@127.0.0.1:3306/og */
  mariadbUrl: string;
  /** mariadb-redis: where the aggregates live, e.g. redis://127.0.0.1:6379 */
  redisUrl: string;
  /** mariadb-redis: no request waits on MariaDB or Redis longer (ms); then a 503. */
  deadlineMs: number;
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
      const { SqliteInterface } = await import('./sqlite.ts');
      return SqliteInterface.open(options.sqlitePath);
    }
    case 'mariadb-redis': {
      const { MariadbRedisInterface } = await import('./mariadb-redis/index.ts');
      return MariadbRedisInterface.open({ mariadbUrl: options.mariadbUrl, redisUrl: options.redisUrl, deadlineMs: options.deadlineMs });
    }
  }
}
