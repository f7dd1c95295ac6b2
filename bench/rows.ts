// The bench's results, one row per run (plus one per load and per export), as latest.json holds them.

import type { InterfaceName } from '../interfaces/index.ts';
import type { Measurement, Scenario } from './scenarios.ts';

export interface Row extends Partial<Omit<Measurement, 'rps' | 'p50_ms' | 'p99_ms'>> {
  /** An interface's server, or a reference server (bench/reference-server.ts). */
  /** `mariadb-redis TLS`: the same, with TLS to MariaDB and Redis over loopback. */
  interface: InterfaceName | 'mariadb-redis TLS' | 'bare node-http' | 'bare express' | 'durable floor' | 'same-work floor';
  scenario: Scenario | 'load' | 'export';
  /** Events stored when the run started; for a load row, the events loaded. */
  events: number;
  rps: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  /** Peak server RSS during the run. */
  rss_mb?: number;
  /** Cores each process used on average during the run: server, and for mariadb-redis mariadb and redis. */
  cpu_cores?: Record<string, number>;
  /** Microseconds of CPU per answered request: each process's, and 'all' together. */
  cpu_us_per_request?: Record<string, number>;
  /** ingest and mix: rps / null's rps in the same scenario and connections. */
  ratio_to_null?: number;
  /** ingest: rps / the bare Express route's rps at the same connections. */
  ratio_to_express?: number;
  /** ingest and mix: rps / the durable floor's rps in the same scenario and connections. */
  ratio_to_floor?: number;
  /** ingest and mix: CPU µs per request of all processes / the durable floor's (server + MariaDB). */
  cpu_ratio_to_floor?: number;
  /** Dashboards: one request alone before the run; null when it took longer than the cap. */
  probe_ms?: number | null;
  connections?: number;
  /** Every response 2xx, no error or timeout. */
  valid?: boolean;
  note?: string;
  // load rows
  load_s?: number;
  events_per_s?: number;
  redis_used_memory_mb?: number;
  mariadb_data_mb?: number;
  sqlite_file_mb?: number;
  verify_ok?: boolean;
  verify_s?: number;
  verify_summary?: string;
  rebuild_ok?: boolean;
  rebuild_s?: number;
  verify_after_rebuild_ok?: boolean;
  // export rows (GET /events read to its end)
  export_s?: number;
  export_lines?: number;
  export_mb?: number;
}
