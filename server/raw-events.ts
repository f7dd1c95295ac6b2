// The raw events as users take them away, for `GET /events` and `npm run export` alike: NDJSON (one
// JSON object a line, keys in the documented order) or CSV (RFC 4180: a header row, CRLF line ends,
// quoted fields where needed), written in chunks that wait whenever the reader is behind.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import type { RawEvent } from '../interfaces/contract.ts';
import { formatMicros } from '../interfaces/time.ts';

export const EVENT_FORMATS = ['ndjson', 'csv'] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

export const CONTENT_TYPES: Record<EventFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

export function isEventFormat(text: string): text is EventFormat {
  return (EVENT_FORMATS as readonly string[]).includes(text);
}

const CSV_COLUMNS = ['type', 'uuid', 'symbol', 'guess', 'ts'] as const;

/** One NDJSON line, keys in the documented order. */
export function ndjsonLine(event: RawEvent): string {
  const ts = formatMicros(event.ts);
  const record =
    event.type === 'initial'
      ? { type: event.type, uuid: event.uuid, symbol: event.symbol, guess: event.guess, ts }
      : { type: event.type, uuid: event.uuid, ts };
  return JSON.stringify(record) + '\n';
}

/** One CSV record; a followup has no symbol nor guess (empty fields). */
export function csvLine(event: RawEvent): string {
  const ts = formatMicros(event.ts);
  const fields = event.type === 'initial' ? [event.type, event.uuid, event.symbol, String(event.guess), ts] : [event.type, event.uuid, '', '', ts];
  return fields.map(csvField).join(',') + '\r\n';
}

/** RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const CHUNK_CHARS = 64 * 1024;

/**
 * Writes `events` to `out` in `format`, then ends nothing (the caller owns `out`). Returns false if
 * `out` closed first (a client gone): the iteration stops there, which ends the interface's query.
 * Between chunks it lets the event loop run, so one long export does not hold up other requests.
 */
export async function writeEvents(events: AsyncIterable<RawEvent>, out: Writable, format: EventFormat): Promise<boolean> {
  const line = format === 'csv' ? csvLine : ndjsonLine;
  let chunk = format === 'csv' ? CSV_COLUMNS.join(',') + '\r\n' : '';
  const flush = async (): Promise<boolean> => {
    if (out.destroyed) return false;
    if (out.write(chunk)) await yieldToEventLoop();
    else await drainedOrClosed(out);
    chunk = '';
    return !out.destroyed;
  };
  for await (const event of events) {
    chunk += line(event);
    if (chunk.length >= CHUNK_CHARS && !(await flush())) return false;
  }
  return chunk === '' || (await flush());
}

function drainedOrClosed(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
