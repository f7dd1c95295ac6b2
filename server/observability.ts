// One structured log line per request (pino, JSON) and Prometheus metrics per route (prom-client).

import type { RequestHandler } from 'express';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataInterface } from '../interfaces/contract.ts';
import { clusterMetricsOf } from './cluster-metrics.ts';
import { HttpError } from './errors.ts';

/** JSON lines at pino's levels: info for what a server does (listening, stopping), warn and error for trouble. */
export function createLogger(): Logger {
  // Asynchronous writes keep logging off the hot path; main flushes on shutdown.
  return pino({ level: 'info' }, pino.destination({ sync: false }));
}

export interface Observability {
  /** Logs and measures every request; mount first. */
  track: RequestHandler;
  /** GET /metrics in the Prometheus text format. */
  metrics: RequestHandler;
}

export interface ObservabilityOptions {
  /** The backend whose own measures (BackendMetric) /metrics reports too, if it has any. */
  data?: DataInterface;
  /** This process is one of a node:cluster's: /metrics answers the sum over all of them. */
  cluster?: boolean;
  /** One info line per request (default false). */
  logRequests?: boolean;
}

export function createObservability(logger: Logger, options: ObservabilityOptions = {}): Observability {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'server_processes',
    help: 'Server processes whose metrics this answer adds up',
    aggregator: 'sum',
    registers: [registry],
  }).set(1);
  const gather = options.cluster ? clusterMetricsOf(registry) : () => registry.metrics();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  if (options.data?.onMetric) backendMetrics(options.data, registry);
  const logRequests = options.logRequests ?? false;
  // The labelled series, made once each: prom-client would hash the labels on every request.
  const series = new Map<string, { count: () => void; observe: (seconds: number) => void }>();
  const seriesOf = (method: string, route: string, status: number) => {
    const key = `${method} ${route} ${status}`;
    let found = series.get(key);
    if (!found) {
      const counter = requests.labels({ method, route, status });
      const histogram = duration.labels({ method, route });
      found = { count: () => counter.inc(), observe: (seconds) => histogram.observe(seconds) };
      series.set(key, found);
    }
    return found;
  };

  const track: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The route pattern, not the path, keeps label values few (a path holds uuids and dates).
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const measured = seriesOf(req.method, route, res.statusCode);
      measured.count();
      measured.observe(seconds);
      if (logRequests) {
        logger.info({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: +(seconds * 1000).toFixed(3) });
      }
    });
    next();
  };

  const metrics: RequestHandler = async (_req, res) => {
    const text = await gather().catch((error: Error) => {
      throw new HttpError(503, error.message);
    });
    res.type(registry.contentType).send(text);
  };

  return { track, metrics };
}

/** The backend's write batches (size, commit time) and how far its aggregates trail its raw events. */
function backendMetrics(data: DataInterface, registry: Registry): void {
  const events = new Histogram({
    name: 'backend_batch_events',
    help: 'Events per committed write batch',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
    registers: [registry],
  });
  const commit = new Histogram({
    name: 'backend_batch_commit_seconds',
    help: 'Time a write batch took to commit, its transaction whole',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const trail = new Gauge({
    name: 'backend_view_trail_batches',
    help: 'Batches the aggregates trail the raw events by, all partitions together, at the last sweep',
    // Every server process sees the same log: the largest, not the sum.
    aggregator: 'max',
    registers: [registry],
  });
  data.onMetric?.((metric) => {
    if (metric.kind === 'view-trail') return void trail.set(metric.batches);
    events.observe(metric.events);
    commit.observe(metric.commitSeconds);
  });
}
