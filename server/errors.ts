// Every error leaves as JSON `{"error": "..."}` that says what was wrong and what is accepted.

import type { ErrorRequestHandler, RequestHandler } from 'express';
import { BackendUnavailableError, CommitOutcomeUnknownError } from '../interfaces/contract.ts';

export class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = 'HttpError';
  }
}

export const notFound: RequestHandler = (req) => {
  throw new HttpError(
    404,
    `no route ${req.method} ${req.path}: the API is POST /initial, POST /followup, ` +
      'GET /dashboard/symbol/:symbol, GET /dashboard/range/:lower/:upper, GET /dashboard (the page), ' +
      'GET /events, GET /healthz, GET /metrics',
  );
};

export function methodNotAllowed(allowed: string): RequestHandler {
  return (req, res) => {
    res.set('Allow', allowed);
    throw new HttpError(405, `${req.path} accepts ${allowed} only, not ${req.method}`);
  };
}

// Messages for the body parser's errors (it tags them with `type`).
const BODY_ERRORS: Record<string, string> = {
  'entity.too.large': 'request body too large: parameters are a uuid and a letter, a few bytes',
  'entity.parse.failed': 'request body is not valid for its Content-Type',
  'encoding.unsupported': 'unsupported Content-Encoding: send the body uncompressed',
  'charset.unsupported': 'unsupported charset: send the body as UTF-8',
};

export function errorHandler(onUnexpected: (error: unknown) => void): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    if (error instanceof CommitOutcomeUnknownError) {
      // Stored or not, nobody can say yet: no answer rather than a false one (the client sees a
      // dropped connection, as after a crash, and the raw events say later what happened).
      onUnexpected(error);
      res.socket?.destroy();
      return;
    }
    if (error instanceof BackendUnavailableError) {
      res.set('Retry-After', String(error.retryAfterSeconds));
      res.status(503).json({ error: `${error.message}; retry after ${error.retryAfterSeconds} s` });
      return;
    }
    const status = error instanceof HttpError ? error.status : clientErrorStatus(error);
    if (status !== undefined) {
      const message = BODY_ERRORS[(error as { type?: string }).type ?? ''] ?? (error as Error).message;
      res.status(status).json({ error: message });
      return;
    }
    onUnexpected(error);
    res.status(500).json({ error: 'internal error: the server logged it' });
  };
}

/** The 4xx status of errors raised by Express itself (body parser, malformed URL encoding), if any. */
function clientErrorStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}
