// A page opened while this process has all the live streams it takes, in a real Chromium: its
// EventSource is refused with a 503 and gives up, so the page says why, comes back when the server's
// Retry-After says (no sooner, and not in a loop), and goes live once a stream closes.

import express from 'express';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteInterface } from '../../interfaces/sqlite.ts';
import { parseTimestamp, type Micros } from '../../interfaces/time.ts';
import { dashboardRoutes } from '../dashboards.ts';
import { errorHandler } from '../errors.ts';
import { collectPageErrors, launchChromium, type Chromium } from './chromium.ts';
import { pageRoutes } from './routes.ts';
import { listen } from './stream-listener.ts';

describe('dashboard page while the live streams are at their cap', () => {
  let chromium: Chromium;
  let data: SqliteInterface;
  let server: Server;
  let url: string;
  const unexpectedErrors: unknown[] = [];

  beforeAll(async () => {
    chromium = await launchChromium();
    data = await SqliteInterface.open(':memory:');
    // The page routes (and the dashboards its chart asks), with a cap of one stream and a short
    // Retry-After to keep the test short.
    const app = express()
      .use(pageRoutes({ data, logger: pino({ level: 'silent' }), maxLiveStreams: 1, liveRetryAfterSeconds: 1 }))
      .use('/dashboard', dashboardRoutes(data))
      .use(errorHandler((error) => unexpectedErrors.push(error)));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await chromium?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await data?.close();
  });

  it('shows that it waits, retries after Retry-After, and goes live when a slot frees', async () => {
    for (let i = 0; i < 3; i++) {
      await data.recordInitial({ uuid: randomUUID(), symbol: 'k', guess: false, ts: parseTimestamp('2017-06-28 19:00') as Micros });
    }
    const holder = await listen(`${url}/dashboard/live`);
    expect(holder.response.status).toBe(200);

    const page = await chromium.context.newPage();
    const pageErrors = collectPageErrors(page);
    let streamRequests = 0;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/dashboard/live') streamRequests++;
    });
    const opened = Date.now();
    await page.goto(`${url}/dashboard`);
    await expect
      .poll(() => page.textContent('#live-status'))
      .toBe('Live updates refused: the server is busy (too many live viewers) or restarting. Retrying in 1 s…');

    // While the slot stays taken the page keeps trying, a GET and a HEAD at least 1 s apart.
    await sleep(2500);
    const rounds = (Date.now() - opened) / 1000 + 1;
    expect(streamRequests).toBeGreaterThanOrEqual(4);
    expect(streamRequests).toBeLessThanOrEqual(2 * rounds);
    expect(await page.getAttribute('#letters', 'aria-busy')).toBe('true');

    holder.close();
    await expect.poll(() => page.textContent('#live-status'), { timeout: 5000 }).toMatch(/^Live:/);
    expect(await page.locator('#letters tbody tr', { hasText: /^k/ }).locator('data').first().getAttribute('value')).toBe('3');

    await page.close();
    // Chromium logs each refusal (the stream's and the HEAD's) as an error; nothing else may appear.
    const refusals = pageErrors.filter((message) => /status of 503/.test(message));
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    expect(pageErrors.filter((message) => !refusals.includes(message))).toEqual([]);
    expect(unexpectedErrors).toEqual([]);
  });
});
