// Configuration from the environment; command-line flags of the same name (`--port 5001`,
// `--data-interface null`) take precedence. Invalid values stop start-up with a message that says
// what is accepted.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { INTERFACE_NAMES, isInterfaceName, type InterfaceOptions } from '../interfaces/index.ts';
import { MAX_PARTITIONS } from '../interfaces/mariadb-redis/partitions.ts';
import type { BackendTls } from '../interfaces/mariadb-redis/tls.ts';

export interface ServerConfig {
  port: number;
  host: string;
  /** Server processes sharing the port (node:cluster); 1 runs in this process. */
  workers: number;
  interface: InterfaceOptions;
  logRequests: boolean;
  /** Bearer token for /events and /metrics (ADMIN_TOKEN, environment only); unset: loopback clients only. */
  adminToken: string | undefined;
  /** Live page streams per process before a 503. */
  maxLiveStreams: number;
  /** What one slow or idle client may hold, per process. */
  limits: ConnectionLimits;
}

export interface ConnectionLimits {
  /** A request's headers must have arrived within this time (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** A whole request, body included, must have arrived within this time (Node's requestTimeout). */
  requestTimeoutMs: number;
  /** Open connections per process; past it new ones are closed at once (Node's maxConnections). */
  maxConnections: number;
}

export const DEFAULT_SQLITE_PATH = path.join(import.meta.dirname, '..', 'data', 'events.sqlite3');

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  workers: { type: 'string' },
  'data-interface': { type: 'string' },
  'sqlite-path': { type: 'string' },
  'mariadb-url': { type: 'string' },
  'redis-url': { type: 'string' },
  'elasticsearch-url': { type: 'string' },
  'backend-deadline-ms': { type: 'string' },
  partitions: { type: 'string' },
  'log-requests': { type: 'string' },
  'max-live-streams': { type: 'string' },
  'headers-timeout-ms': { type: 'string' },
  'request-timeout-ms': { type: 'string' },
  'max-connections': { type: 'string' },
} as const;

const MIN_ADMIN_TOKEN = 16;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The interface part alone, for tools (export, verify) that do not serve HTTP. */
export function interfaceOptionsFrom(env: NodeJS.ProcessEnv, flags: Record<string, string | undefined> = {}): InterfaceOptions {
  const name = flags['data-interface'] ?? env.DATA_INTERFACE ?? 'sqlite';
  if (!isInterfaceName(name)) {
    throw new ConfigError(`DATA_INTERFACE "${name}" is unknown: use one of ${INTERFACE_NAMES.join(', ')}`);
  }
  return {
    name,
    sqlitePath: flags['sqlite-path'] ?? env.SQLITE_PATH ?? DEFAULT_SQLITE_PATH,
    mariadbUrl: flags['mariadb-url'] ?? env.MARIADB_URL ?? 'mysql://og:og@127.0.0.1:3306/og',
    redisUrl: flags['redis-url'] ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    elasticsearchUrl: flags['elasticsearch-url'] ?? env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200',
    deadlineMs: integer('BACKEND_DEADLINE_MS', flags['backend-deadline-ms'] ?? env.BACKEND_DEADLINE_MS ?? '2000', 100, 60_000),
    partitions: optional(flags.partitions ?? env.PARTITIONS, (text) => integer('PARTITIONS', text, 1, MAX_PARTITIONS)),
    tls: backendTls(env),
  };
}

/** MARIADB_TLS_CA; REDIS_TLS_CA, _CERT, _KEY (environment only): the files, read when the interface opens. */
function backendTls(env: NodeJS.ProcessEnv): BackendTls | undefined {
  const set = (name: string) => (env[name] === '' ? undefined : env[name]);
  const mariadb = set('MARIADB_TLS_CA');
  const redis = { ca: set('REDIS_TLS_CA'), cert: set('REDIS_TLS_CERT'), key: set('REDIS_TLS_KEY') };
  if ((redis.cert === undefined) !== (redis.key === undefined)) throw new ConfigError('REDIS_TLS_CERT and REDIS_TLS_KEY go together: set both (a client certificate and its key) or neither');
  const anyRedis = Object.values(redis).some((file) => file !== undefined);
  if (mariadb === undefined && !anyRedis) return undefined;
  return { ...(mariadb === undefined ? {} : { mariadb: { ca: mariadb } }), ...(anyRedis ? { redis } : {}) };
}

const optional = <T>(text: string | undefined, parse: (text: string) => T): T | undefined => (text === undefined ? undefined : parse(text));

export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const config = readConfig(argv, env);
  if (config.limits.headersTimeoutMs > config.limits.requestTimeoutMs) {
    throw new ConfigError(`HEADERS_TIMEOUT_MS (${config.limits.headersTimeoutMs}) is longer than REQUEST_TIMEOUT_MS (${config.limits.requestTimeoutMs}): the headers are part of the request`);
  }
  return config;
}

function readConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig {
  let flags: Record<string, string | undefined>;
  try {
    flags = parseArgs({ args: argv, options: FLAGS, strict: true }).values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}; accepted flags: ${Object.keys(FLAGS).map((f) => `--${f}`).join(', ')}`);
  }
  return {
    port: integer('PORT', flags.port ?? env.PORT ?? '5000', 0, 65535),
    host: flags.host ?? env.HOST ?? '0.0.0.0',
    workers: integer('WORKERS', flags.workers ?? env.WORKERS ?? '1', 1, 64),
    interface: interfaceOptionsFrom(env, flags),
    logRequests: (flags['log-requests'] ?? env.LOG_REQUESTS ?? 'true') !== 'false',
    adminToken: adminToken(env.ADMIN_TOKEN),
    maxLiveStreams: integer('MAX_LIVE_STREAMS', flags['max-live-streams'] ?? env.MAX_LIVE_STREAMS ?? '1000', 1, 1_000_000),
    limits: {
      headersTimeoutMs: integer('HEADERS_TIMEOUT_MS', flags['headers-timeout-ms'] ?? env.HEADERS_TIMEOUT_MS ?? '10000', 1000, 600_000),
      requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', flags['request-timeout-ms'] ?? env.REQUEST_TIMEOUT_MS ?? '30000', 1000, 3_600_000),
      maxConnections: integer('MAX_CONNECTIONS', flags['max-connections'] ?? env.MAX_CONNECTIONS ?? '10000', 1, 1_000_000),
    },
  };
}

/** A token too short to resist guessing is refused rather than trusted. */
function adminToken(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text.length < MIN_ADMIN_TOKEN || /\s/.test(text)) {
    throw new ConfigError(`ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN} characters without spaces (for example \`openssl rand -hex 32\`), or unset`);
  }
  return text;
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new ConfigError(`${name} "${text}" is not valid: use a whole number from ${min} to ${max}`);
  }
  return value;
}
