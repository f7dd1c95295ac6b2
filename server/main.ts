// `npm start`: serves the API on PORT with the configured data interface. With WORKERS > 1 the
// primary forks that many server processes sharing the port (node:cluster) and replaces any that dies.
// SIGTERM or SIGINT: stop accepting, finish the requests in flight, close the interface, exit. Under
// systemd a stop signals every process of the service at once, and the primary passes the signal on
// as well: a process that is already stopping ignores the next signal rather than dying of it.

import cluster from 'node:cluster';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { openInterface } from '../interfaces/index.ts';
import { createApp } from './app.ts';
import { aggregateWorkerMetrics } from './cluster-metrics.ts';
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import { createLogger } from './observability.ts';

const SHUTDOWN_GRACE_MS = 10_000;
const RESPAWN_DELAY_MS = 1000;
/** How often Node looks for connections past their headers or request timeout (its default is 30 s). */
const TIMEOUT_CHECK_MS = 1000;

async function serve(config: ServerConfig): Promise<void> {
  const logger = createLogger();
  const data = await openInterface(config.interface);
  const stopping = new AbortController();
  const app = createApp({
    data,
    logger,
    logRequests: config.logRequests,
    shutdown: stopping.signal,
    adminToken: config.adminToken,
    maxLiveStreams: config.maxLiveStreams,
    clusterMetrics: cluster.isWorker,
  });
  const { headersTimeoutMs, requestTimeoutMs, maxConnections } = config.limits;
  const server = createServer(
    { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_MS },
    app,
  );
  server.maxConnections = maxConnections;
  const inFlight = answersInFlight(server, stopping.signal);
  server.listen(config.port, config.host);
  await once(server, 'listening');
  logger.info({ interface: data.name, host: config.host, port: config.port }, 'listening');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    const closed = once(server, 'close');
    stopping.abort(); // ends the live dashboard streams, which would hold server.close() until the force
    // Their connections close once answered, rather than idle on until the keep-alive timeout.
    for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    server.close();
    server.closeIdleConnections();
    await closed;
    clearTimeout(force);
    await data.close();
    logger.flush();
    process.exit(0);
  };
  onFirstStopSignal(shutdown);
}

/** The responses not yet finished; once `stopping` aborts, new requests are answered with `Connection: close`. */
function answersInFlight(server: Server, stopping: AbortSignal): Set<ServerResponse> {
  const inFlight = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    if (stopping.aborted) res.shouldKeepAlive = false;
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  return inFlight;
}

function supervise(config: ServerConfig): void {
  const logger = createLogger();
  let stopping = false;
  aggregateWorkerMetrics();
  for (let i = 0; i < config.workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ worker_pid: worker.process.pid, code, signal }, 'server process died: starting another');
    setTimeout(() => cluster.fork(), RESPAWN_DELAY_MS);
  });
  onFirstStopSignal((signal) => {
    stopping = true;
    logger.info({ signal, workers: config.workers }, 'stopping server processes');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  });
}

/**
 * Runs `stop` at the first SIGTERM or SIGINT and keeps a listener for later ones, which are then
 * ignored: without a listener a second signal would kill the process with its requests in flight.
 */
function onFirstStopSignal(stop: (signal: NodeJS.Signals) => void | Promise<void>): void {
  let stopped = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopped) return;
    stopped = true;
    void stop(signal);
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}

try {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) supervise(config);
  else await serve(config);
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration: ${error.message}` : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
