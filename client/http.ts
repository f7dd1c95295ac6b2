// The client's HTTP: node:http with a keep-alive agent, one socket per virtual user. Measured
// against the global fetch (an Express server on the same 2-core machine, concurrency 1 to 32),
// node:http sent 1.4 to 1.9 times the requests per second: fetch (undici) costs more CPU per request.

import http from 'node:http';
import https from 'node:https';

export interface Answer {
  status: number;
  body: string;
  /** The Retry-After header, as sent. */
  retryAfter: string | undefined;
}

/** The request got no HTTP answer: refused, reset, timed out, ... */
export class NoAnswerError extends Error {
  /** A short name for why: ECONNREFUSED, ECONNRESET, TIMEOUT, ... */
  readonly kind: string;
  constructor(kind: string, cause?: unknown) {
    super(`no answer (${kind})`, { cause });
    this.name = 'NoAnswerError';
    this.kind = kind;
  }
}

export interface HttpClient {
  /** Resolves with any HTTP answer, 5xx included; rejects with NoAnswerError when there is none. */
  request(method: 'GET' | 'POST', path: string): Promise<Answer>;
  close(): void;
}

// The server answers fast or says 503; an answer this late means a stuck connection.
const REQUEST_TIMEOUT_MS = 30_000;

export function createHttpClient(baseUrl: string, sockets: number): HttpClient {
  const url = new URL(baseUrl);
  const transport = url.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: sockets });
  const prefix = url.href.replace(/\/$/, '');

  function request(method: 'GET' | 'POST', path: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const noAnswer = (error: Error) => reject(error instanceof NoAnswerError ? error : new NoAnswerError(kindOf(error), error));
      const outgoing = transport.request(
        prefix + path,
        // The original sends its parameters in the query string and an empty body.
        { method, agent, headers: method === 'POST' ? { 'content-length': '0' } : {} },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, body, retryAfter: response.headers['retry-after'] });
          });
          response.on('error', noAnswer);
        },
      );
      outgoing.setTimeout(REQUEST_TIMEOUT_MS, () => outgoing.destroy(new NoAnswerError('TIMEOUT')));
      outgoing.on('error', noAnswer);
      outgoing.end();
    });
  }

  return { request, close: () => agent.destroy() };
}

function kindOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.message;
}

/** Seconds to wait before retrying a 503: the header's seconds or date, else 1. */
export function retryAfterSeconds(header: string | undefined, now = Date.now()): number {
  const text = header?.trim();
  if (text === undefined || text === '') return 1;
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? 1 : Math.max(0, (date - now) / 1000);
}
