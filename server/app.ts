// The Express application: routes, validation, errors, logs and metrics over one data interface.
// It does not own the interface: whoever opened it closes it.

import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { DataInterface } from '../interfaces/contract.ts';
import { systemClock, type Micros } from '../interfaces/time.ts';
import { adminAccess } from './admin.ts';
import { withAdmissionLimit, type AdmissionLimits } from './admission.ts';
import { dashboardRoutes } from './dashboards.ts';
import { errorHandler, notFound } from './errors.ts';
import { eventRoutes } from './events.ts';
import { ingestRoutes } from './ingest.ts';
import { createGuesser, type Random } from './model.ts';
import { createLogger, createObservability } from './observability.ts';
import { pageRoutes } from './page/routes.ts';

export interface AppOptions {
  data: DataInterface;
  /** The server's timestamp for each event (injectable for tests). */
  clock?: () => Micros;
  /** The model's random source (injectable for tests). */
  random?: Random;
  /** Where errors go (and request lines, with logRequests). */
  logger?: Logger;
  /** One info line per request (default false). */
  logRequests?: boolean;
  /** Writes and reads that may wait on the backend at once before the next gets a 503 (default 2048 each). */
  admission?: AdmissionLimits;
  /** Aborted when the server shuts down: the dashboard page's live streams end, so closing need not wait for them. */
  shutdown?: AbortSignal;
  /** Who may read /events and /metrics: with a token, its bearers; without, loopback clients only. */
  adminToken?: string;
  /** This process is one of a node:cluster's: /metrics reports them all (default false). */
  clusterMetrics?: boolean;
  /** Live page streams open at once in this process before the next gets a 503 (default 1000). */
  maxLiveStreams?: number;
}

const HEALTH_TIMEOUT_MS = 1000;
/** The API described in OpenAPI 3.1; the HTTP contract suite holds every answer to it. */
const OPENAPI_FILE = fileURLToPath(new URL('./openapi.json', import.meta.url));

export function createApp(options: AppOptions): Express {
  const logger = options.logger ?? createLogger();
  const data = withAdmissionLimit(options.data, options.admission ?? { writes: 2048, reads: 2048 });
  const observability = createObservability(logger, { cluster: options.clusterMetrics, logRequests: options.logRequests, data: options.data });

  const app = express();
  app.disable('x-powered-by');
  // Every answer is computed for its request: an ETag (a hash of each body) would never match.
  app.disable('etag');
  app.use(observability.track);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });

  app.get('/openapi.json', (_req, res) => res.sendFile(OPENAPI_FILE));
  app.get('/healthz', async (_req, res) => {
    const backend = await answers(data, HEALTH_TIMEOUT_MS);
    res.status(backend === true ? 200 : 503).json({
      up: true,
      interface: data.name,
      backend: backend === true ? 'up' : 'down',
      ...(backend === true ? {} : { error: backend }),
    });
  });
  const admin = adminAccess(options.adminToken);
  app.get('/metrics', admin, observability.metrics);
  app.use('/events', admin);
  app.use(eventRoutes(data));
  app.use(ingestRoutes({ data, clock: options.clock ?? systemClock, guess: createGuesser(options.random) }));
  app.use(pageRoutes({ data, logger, shutdown: options.shutdown, maxLiveStreams: options.maxLiveStreams }));
  app.use('/dashboard', dashboardRoutes(data));
  app.use(notFound);
  app.use(errorHandler((error) => logger.error({ err: error }, 'unexpected error')));
  return app;
}

/** true when the backend answers a ping within the time, else the reason. */
async function answers(data: DataInterface, timeoutMs: number): Promise<true | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([data.ping().then(() => true as const), timeout]);
  } catch (error) {
    return (error as Error).message;
  } finally {
    clearTimeout(timer);
  }
}
