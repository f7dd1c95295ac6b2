// The Server-Sent Events wire format, and the headers that keep caches and proxies from holding a
// stream back.

import type { Response } from 'express';

/** Starts an event stream on the response; the browser reconnects `reconnectMs` after it ends. */
export function openEventStream(res: Response, reconnectMs: number): void {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    // nginx buffers responses by default, which would deliver the updates in lumps.
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.write(`retry: ${reconnectMs}\n\n`);
}

/** One event; JSON never holds a raw newline, so the data fits the one `data:` line. */
export function eventFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment: ignored by the browser, it keeps idle connections from being cut by proxies. */
export const HEARTBEAT_FRAME = ': heartbeat\n\n';
