// `npm start`: serves the API on PORT with the configured data interface. With WORKERS > 1 the
// primary forks that many server processes sharing the port (node:cluster) and replaces any that dies.
// SIGTERM or SIGINT: stop accepting, finish the requests in flight, close the interface, exit.

import cluster from 'node:cluster';
import { once } from 'node:events';
import { openInterface } from '../interfaces/index.ts';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import { createLogger } from './observability.ts';

const SHUTDOWN_GRACE_MS = 10_000;
const RESPAWN_DELAY_MS = 1000;

async function serve(config: ServerConfig): Promise<void> {
  const logger = createLogger({ requests: config.logRequests });
  const data = await openInterface(config.interface);
  const stopping = new AbortController();
  const server = createApp({ data, logger, shutdown: stopping.signal }).listen(config.port, config.host);
  await once(server, 'listening');
  logger.warn({ interface: data.name, host: config.host, port: config.port, pid: process.pid }, 'listening');

  const shutdown = async (signal: string) => {
    logger.warn({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    const closed = once(server, 'close');
    stopping.abort(); // ends the live dashboard streams, which would hold server.close() until the force
    server.close();
    server.closeIdleConnections();
    await closed;
    clearTimeout(force);
    await data.close();
    logger.flush();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

function supervise(config: ServerConfig): void {
  const logger = createLogger({ requests: false });
  let stopping = false;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'server process died: starting another');
    setTimeout(() => cluster.fork(), RESPAWN_DELAY_MS);
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    logger.warn({ signal, workers: config.workers }, 'stopping server processes');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

try {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) supervise(config);
  else await serve(config);
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration: ${error.message}` : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
