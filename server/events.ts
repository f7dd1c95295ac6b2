// GET /events?from=DATE&to=DATE[&format=csv]: the raw events of the interface, oldest first, streamed
// at constant memory in the formats of `npm run export`. The range is half-open, in the API's formats.

import { Router, type Request } from 'express';
import type { DataInterface, ExportRange } from '../interfaces/contract.ts';
import { HttpError, methodNotAllowed } from './errors.ts';
import { readTimestamp } from './params.ts';
import { CONTENT_TYPES, EVENT_FORMATS, isEventFormat, writeEvents, type EventFormat } from './raw-events.ts';

const PARAMETERS = ['from', 'to', 'format'];

export function eventRoutes(data: DataInterface): Router {
  const router = Router();
  // HEAD says what GET would send without running the query (Express would run GET and drop the body).
  router.head('/events', (req, res) => {
    res.set(headers(readExport(req).format)).end();
  });
  router.get('/events', async (req, res) => {
    const { format, range } = readExport(req);
    // The first event is read before the status goes out, so a backend that is down is a 503.
    const events = data.exportEvents(range)[Symbol.asyncIterator]();
    const first = await events.next();
    res.set(headers(format));
    try {
      if (await writeEvents(resumed(first, events), res, format)) res.end();
    } catch (error) {
      // The status is out: only a cut connection tells the client that the export is incomplete
      // (a chunked body without its last chunk).
      res.destroy(error as Error);
    }
  });
  router.all('/events', methodNotAllowed('GET, HEAD'));
  return router;
}

function readExport(req: Request): { format: EventFormat; range: ExportRange } {
  const query = rawQuery(req);
  const format = chosenFormat(req, query.get('format'));
  const [from, to] = [query.get('from'), query.get('to')];
  const range: ExportRange = {};
  if (from !== undefined) range.from = readTimestamp('from', from);
  if (to !== undefined) range.to = readTimestamp('to', to);
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
    throw new HttpError(400, `from ${from} is after to ${to}`);
  }
  return { format, range };
}

function headers(format: EventFormat): Record<string, string> {
  return { 'Content-Type': CONTENT_TYPES[format], 'Cache-Control': 'no-store' };
}

/** The events again from the first, already read; stopping early ends the interface's query too. */
async function* resumed<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncGenerator<T> {
  try {
    if (first.done) return;
    yield first.value;
    yield* { [Symbol.asyncIterator]: () => rest };
  } finally {
    await rest.return?.();
  }
}

/**
 * The query's parameters, each at most once, percent-decoded but with `+` kept as a plus: a bound
 * such as `2026-11-23T10:00+02:00` typed into a URL must not have its offset read as a space.
 */
function rawQuery(req: Request): Map<string, string> {
  const search = req.originalUrl.indexOf('?');
  const params = new Map<string, string>();
  if (search < 0) return params;
  for (const part of req.originalUrl.slice(search + 1).split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const [name, value] = equals < 0 ? [part, ''] : [part.slice(0, equals), part.slice(equals + 1)];
    const decoded = [decode(name), decode(value)] as const;
    if (!PARAMETERS.includes(decoded[0])) {
      throw new HttpError(400, `unknown parameter "${decoded[0]}": /events takes ${PARAMETERS.join(', ')}`);
    }
    if (params.has(decoded[0])) throw new HttpError(400, `${decoded[0]} must be given once`);
    params.set(...decoded);
  }
  return params;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, `"${text.slice(0, 40)}" is not valid percent-encoding`);
  }
}

/** format= wins; otherwise CSV when the client prefers text/csv, else NDJSON. */
function chosenFormat(req: Request, format: string | undefined): EventFormat {
  if (format !== undefined) {
    if (!isEventFormat(format)) throw new HttpError(400, `format "${format.slice(0, 40)}" is unknown: use ${EVENT_FORMATS.join(' or ')}`);
    return format;
  }
  return req.accepts(['application/x-ndjson', 'text/csv']) === 'text/csv' ? 'csv' : 'ndjson';
}
