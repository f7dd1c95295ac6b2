// The live hub over HTTP: one read per interval whatever the number of pages, none while nobody
// listens, frames only on change, heartbeats, outages, and a shutdown that does not wait on streams.

import express from 'express';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendUnavailableError } from '../../interfaces/contract.ts';
import { NullInterface } from '../../interfaces/null.ts';
import { createApp } from '../app.ts';
import { listen } from './stream-listener.ts';
import { LiveHub, type LiveHubOptions } from './live.ts';

const servers: Server[] = [];
const hubs: LiveHub[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) hub.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(app: express.Express): Promise<{ server: Server; origin: string }> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A hub served at /live. */
async function serveHub(options: LiveHubOptions): Promise<{ url: string }> {
  const hub = new LiveHub(options);
  hubs.push(hub);
  const app = express();
  app.get('/live', (_req, res) => hub.subscribe(res));
  const { origin } = await serve(app);
  return { url: `${origin}/live` };
}

describe('live hub', () => {
  it('answers an event stream: SSE headers, a reconnect delay, then the snapshot', async () => {
    const { url } = await serveHub({ read: async () => ({ n: 1 }) });
    const listener = await listen(url);
    expect(listener.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(listener.response.headers.get('cache-control')).toBe('no-cache');
    expect(listener.response.headers.get('x-accel-buffering')).toBe('no');
    await vi.waitFor(() => expect(listener.frames).toEqual(['retry: 2000', 'event: update\ndata: {"n":1}']));
    listener.close();
  });

  it('reads once per interval for any number of pages, and not at all while none listens', async () => {
    let reads = 0;
    const { url } = await serveHub({ read: async () => ({ reads: ++reads }), intervalMs: 20 });
    const listeners = await Promise.all(Array.from({ length: 10 }, () => listen(url)));
    const [readsBefore, started] = [reads, Date.now()];
    await sleep(300);
    const intervals = (Date.now() - started) / 20;
    // A read per page and interval would be ten times as many.
    expect(reads - readsBefore).toBeGreaterThan(3);
    expect(reads - readsBefore).toBeLessThanOrEqual(intervals + 2);
    // Every page gets every update: the same last frame everywhere.
    await vi.waitFor(() => {
      const last = listeners.map((listener) => listener.frames.at(-1));
      expect(new Set(last).size).toBe(1);
    });

    for (const listener of listeners) listener.close();
    // Once the hub has seen the disconnects, it reads no more.
    await vi.waitFor(
      async () => {
        const before = reads;
        await sleep(200);
        expect(reads).toBe(before);
      },
      { timeout: 3000 },
    );
  });

  it('sends only changes, and heartbeat comments in between', async () => {
    const { url } = await serveHub({ read: async () => 'same', intervalMs: 10, heartbeatMs: 60 });
    const listener = await listen(url);
    await sleep(300);
    expect(listener.frames.filter((frame) => frame.startsWith('event: update'))).toHaveLength(1);
    expect(listener.frames.filter((frame) => frame === ': heartbeat').length).toBeGreaterThanOrEqual(2);
    listener.close();
  });

  it('tells pages when the backend is unavailable, reports it once, and recovers', async () => {
    let failing = true;
    const onReadError = vi.fn();
    const read = async () => {
      if (failing) throw new BackendUnavailableError('redis does not answer');
      return 'back';
    };
    const { url } = await serveHub({ read, intervalMs: 10, onReadError });
    const listener = await listen(url);
    await sleep(100);
    failing = false;
    await vi.waitFor(() =>
      expect(listener.frames).toEqual([
        'retry: 2000',
        'event: unavailable\ndata: {"error":"redis does not answer"}',
        'event: update\ndata: "back"',
      ]),
    );
    expect(onReadError).toHaveBeenCalledTimes(1);
    listener.close();
  });

  it('skips a page that does not read, then gives it the latest update when it drains', async () => {
    let reads = 0;
    const hub = new LiveHub({ read: async () => ++reads, intervalMs: 10 });
    hubs.push(hub);
    const written: string[] = [];
    // Just what the hub uses of a response; "congested" after the first update, as a page that stopped reading.
    const res = Object.assign(new EventEmitter(), {
      writableNeedDrain: false,
      status: () => res,
      set: () => res,
      flushHeaders: () => {},
      write: (frame: string) => {
        written.push(frame);
        res.writableNeedDrain = written.length >= 2;
        return !res.writableNeedDrain;
      },
      end: () => {},
    });
    hub.subscribe(res as unknown as express.Response);
    await vi.waitFor(() => expect(reads).toBeGreaterThan(3));
    expect(written).toEqual(['retry: 2000\n\n', 'event: update\ndata: 1\n\n']);

    res.writableNeedDrain = false;
    res.emit('drain');
    expect(written).toHaveLength(3);
    expect(written[2]).toBe(`event: update\ndata: ${reads}\n\n`);
    res.emit('close');
  });

  it('keeps the reason of an unexpected failure for the log', async () => {
    const { url } = await serveHub({ read: () => Promise.reject(new Error('SQLITE_CORRUPT: at /var/lib/secret')) });
    const listener = await listen(url);
    await vi.waitFor(() => expect(listener.frames[1]).toBe('event: unavailable\ndata: {"error":"internal error: the server logged it"}'));
    listener.close();
  });
});

describe('the cap on live streams', () => {
  it('refuses a stream past the cap with a 503 and Retry-After, and takes one again when another closes', async () => {
    const { origin } = await serve(createApp({ data: new NullInterface(), maxLiveStreams: 2 }));
    const url = `${origin}/dashboard/live`;
    const open = [await listen(url), await listen(url)];
    expect(open.map((listener) => listener.response.status)).toEqual([200, 200]);

    const refused = await fetch(url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect((await refused.json()).error).toBe('too many live viewers: this server has its limit of 2 live streams open; retry in 5 s');

    open.shift()!.close();
    // The server sees the disconnect a moment later; until then it may still refuse.
    const admitted = await vi.waitFor(async () => {
      const listener = await listen(url);
      if (listener.response.status !== 200) listener.close();
      expect(listener.response.status).toBe(200);
      return listener;
    });
    await vi.waitFor(() => expect(admitted.frames).toHaveLength(2));
    for (const listener of [...open, admitted]) listener.close();
  });

  it('answers HEAD with the stream headers and no body, opening no stream; past the cap, with the same 503', async () => {
    const data = new NullInterface();
    // The hub reads as soon as a stream opens, and only then.
    const reads = vi.spyOn(data, 'symbolAggregates');
    const { origin } = await serve(createApp({ data, maxLiveStreams: 2 }));
    const url = `${origin}/dashboard/live`;
    for (let i = 0; i < 3; i++) {
      const head = await fetch(url, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(head.headers.get('cache-control')).toBe('no-cache');
      expect(head.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await head.text()).toBe('');
    }
    expect(reads).not.toHaveBeenCalled();
    // Both slots are free.
    const [first, second] = [await listen(url), await listen(url)];
    expect([first.response.status, second.response.status]).toEqual([200, 200]);
    expect(reads).toHaveBeenCalled();

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(503);
    expect(head.headers.get('retry-after')).toBe('5');
    for (const listener of [first, second]) listener.close();
  });
});

describe('the app at shutdown', () => {
  it('ends the live streams, refuses new ones and closes at once', async () => {
    const stopping = new AbortController();
    const { server, origin } = await serve(createApp({ data: new NullInterface(), shutdown: stopping.signal }));
    const url = `${origin}/dashboard/live`;
    const listener = await listen(url);
    await vi.waitFor(() => expect(listener.frames).toHaveLength(2));

    stopping.abort();
    await listener.ended;
    const refused = await fetch(url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await refused.json()).error).toMatch(/shutting down/);

    // As server/main.ts does: close, then drop the idle keep-alive connections; nothing else is left.
    const started = Date.now();
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    await closed;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
