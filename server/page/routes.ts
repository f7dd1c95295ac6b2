// The dashboard page: GET /dashboard (the HTML), its scripts and styles under /dashboard/assets/,
// and the live event stream GET /dashboard/live; GET / leads to the page.

import express, { Router } from 'express';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { DataInterface } from '../../interfaces/contract.ts';
import { presentAggregate } from '../dashboards.ts';
import { HttpError } from '../errors.ts';
import { LiveHub } from './live.ts';
import { pageSecurityHeaders } from './security.ts';

const PAGE_FILE = fileURLToPath(new URL('./index.html', import.meta.url));
const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

export interface PageOptions {
  data: DataInterface;
  logger: Logger;
  /** Aborted when the server shuts down: the live streams end, so that closing does not wait on them. */
  shutdown?: AbortSignal;
  /** Live streams open at once before the next gets a 503 with Retry-After (TODO: enforce). */
  maxLiveStreams?: number;
  /** The pause between two live updates (default 1 s). */
  liveIntervalMs?: number;
}

export function pageRoutes(options: PageOptions): Router {
  const { data, logger } = options;
  const live = new LiveHub({
    read: () => readAllSymbols(data),
    intervalMs: options.liveIntervalMs,
    onReadError: (error) => logger.warn({ err: error }, 'live dashboard: reading the aggregates failed'),
  });
  options.shutdown?.addEventListener('abort', () => live.close(), { once: true });

  const router = Router();
  router.get('/', (_req, res) => res.redirect('/dashboard'));
  router.get('/dashboard', pageSecurityHeaders, (_req, res) => res.sendFile(PAGE_FILE));
  router.use('/dashboard/assets', pageSecurityHeaders, express.static(ASSETS_DIR, { index: false }));
  router.get('/dashboard/live', pageSecurityHeaders, (_req, res) => {
    if (live.closed) {
      res.set('Retry-After', '1');
      throw new HttpError(503, 'the server is shutting down: reconnect to reach a running one');
    }
    live.subscribe(res);
  });
  return router;
}

/** A live update: the 26 symbol dashboards, a to z, from one read, in the API's JSON shape (as a range dashboard). */
async function readAllSymbols(data: DataInterface) {
  return (await data.symbolAggregates()).map(presentAggregate);
}
