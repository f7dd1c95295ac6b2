// The dashboard page: GET /dashboard (the HTML), its scripts and styles under /dashboard/assets/,
// and the live event stream GET /dashboard/live; GET / leads to the page.
//
// Each open stream holds a connection and a slot in this process's fan-out, so they are capped per
// process: past the cap, a new stream gets a 503 with Retry-After, and the page comes back then.
// HEAD /dashboard/live answers what a GET would (the stream's headers, or the same 503) without
// opening a stream: the page asks it when to come back, since EventSource hides a refusal's headers.

import express, { Router, type RequestHandler } from 'express';
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
  /**
   * Live streams open at once in this process (default 1000); past it, a new one gets a 503 with
   * Retry-After until one closes. Each costs a connection and a write per update, not a read.
   */
  maxLiveStreams?: number;
  /** The Retry-After of that 503 (default 5 s): refused pages come back no sooner. */
  liveRetryAfterSeconds?: number;
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
  const maxStreams = options.maxLiveStreams ?? 1000;
  const retryAfterSeconds = options.liveRetryAfterSeconds ?? 5;

  /** Refuses a new stream, as GET and HEAD both say, when this process takes none now. */
  const admitStream: RequestHandler = (_req, res, next) => {
    if (live.closed) {
      res.set('Retry-After', '1');
      throw new HttpError(503, 'the server is shutting down: reconnect to reach a running one');
    }
    if (live.size >= maxStreams) {
      res.set('Retry-After', String(retryAfterSeconds));
      throw new HttpError(
        503,
        `too many live viewers: this server has its limit of ${maxStreams} live streams open; retry in ${retryAfterSeconds} s`,
      );
    }
    next();
  };

  const router = Router();
  router.get('/', (_req, res) => res.redirect('/dashboard'));
  router.get('/dashboard', pageSecurityHeaders, (_req, res) => res.sendFile(PAGE_FILE));
  router.use('/dashboard/assets', pageSecurityHeaders, express.static(ASSETS_DIR, { index: false }));
  // Before the GET route, which Express would otherwise run for a HEAD too, opening a stream.
  router.head('/dashboard/live', pageSecurityHeaders, admitStream, (_req, res) => live.head(res));
  router.get('/dashboard/live', pageSecurityHeaders, admitStream, (_req, res) => live.subscribe(res));
  return router;
}

/** A live update: the 26 symbol dashboards, a to z, from one read, in the API's JSON shape (as a range dashboard). */
async function readAllSymbols(data: DataInterface) {
  return (await data.symbolAggregates()).map(presentAggregate);
}
