// The events-over-time chart of the dashboard page in a real Chromium set to a time zone: Berlin on
// the 25-hour day that ends summer time (2026-10-25: the hour from 02:00 comes twice, as +02:00 and
// +01:00), and Kathmandu, whose hours start at :15 past UTC's. The chart must show the buckets the
// API gives for the range and zone shown, update live, and say why when the API refuses.

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteInterface } from '../../interfaces/sqlite.ts';
import { parseTimestamp, type Micros } from '../../interfaces/time.ts';
import { createApp } from '../app.ts';
import { collectPageErrors, launchChromium, type Chromium } from './chromium.ts';

interface Point {
  start: string;
  count: number;
  followups: number;
}

/** The page's bars as the points they draw (from their data attributes). */
const readBars = (page: Page): Promise<Point[]> =>
  page.$$eval('#series-chart rect.bar', (bars) =>
    bars.map((bar) => ({ start: bar.getAttribute('data-start') ?? '', count: Number(bar.getAttribute('data-count')), followups: Number(bar.getAttribute('data-followups')) })),
  );

/** A page in Chromium set to `timezoneId`, over the app on sqlite with a clock the test sets. */
function chartIn(timezoneId: string) {
  const h = {} as { chromium: Chromium; data: SqliteInterface; server: Server; url: string; now: Micros; page: Page; errors: string[] };

  beforeAll(async () => {
    h.chromium = await launchChromium(undefined, timezoneId);
  });
  afterAll(async () => {
    await h.chromium?.close();
  });
  beforeEach(async () => {
    h.data = await SqliteInterface.open(':memory:');
    h.now = parseTimestamp('2026-01-01') as Micros;
    h.server = createApp({ data: h.data, clock: () => h.now }).listen(0, '127.0.0.1');
    await new Promise((resolve) => h.server.once('listening', resolve));
    h.url = `http://127.0.0.1:${(h.server.address() as AddressInfo).port}`;
    h.page = await h.chromium.context.newPage();
    h.page.setDefaultTimeout(10_000);
    h.errors = collectPageErrors(h.page);
  });
  afterEach(async () => {
    await h.page.close();
    h.server.closeAllConnections();
    await new Promise((resolve) => h.server.close(resolve));
    await h.data.close();
    expect(h.errors, 'console errors or exceptions on the page').toEqual([]);
  });

  return {
    h,
    /** An initial of `symbol` at `utc`, with `followups` followups a second later. */
    seed: async (symbol: string, utc: string, followups = 0) => {
      const uuid = randomUUID();
      h.now = parseTimestamp(utc) as Micros;
      expect((await fetch(`${h.url}/initial?uuid=${uuid}&symbol=${symbol}`, { method: 'POST' })).status).toBe(200);
      h.now += 1_000_000;
      for (let i = 0; i < followups; i++) expect((await fetch(`${h.url}/followup?uuid=${uuid}`, { method: 'POST' })).status).toBe(200);
    },
    /** The dashboard at `utc` on the page's clock, once its chart has `bars` bars; the chart's first request. */
    open: async (utc: string, bars: number) => {
      await h.page.clock.setFixedTime(new Date(utc));
      const request = h.page.waitForRequest((r) => r.url().includes('/dashboard/series/'));
      await h.page.goto(`${h.url}/dashboard`);
      await expect.poll(async () => (await readBars(h.page)).length).toBe(bars);
      return new URL((await request).url());
    },
    /** The API's points for a request the page made: what the chart must show. */
    api: async (request: URL) => ((await (await fetch(h.url + request.pathname + request.search)).json()) as { points: Point[] }).points,
  };
}

describe('the events-over-time chart in Europe/Berlin', () => {
  const { h, seed, open, api } = chartIn('Europe/Berlin');

  it('shows the 25 hours of 2026-10-25, 02:00 twice told apart by its offset, and updates live', async () => {
    await seed('e', '2026-10-24 21:59:59.999999'); // 23:59:59.999999 CEST, the day before
    await seed('e', '2026-10-25 00:30:00'); // 02:30 CEST
    await seed('e', '2026-10-25 01:30:00', 1); // 02:30 CET, the hour that repeats
    await seed('k', '2026-10-25 01:59:59.999999'); // 02:59:59.999999 CET
    await seed('k', '2026-10-25 22:59:59.999999'); // 23:59:59.999999 CET, the last instant of the day
    const request = await open('2026-10-25T10:00:00Z', 25);
    expect(decodeURIComponent(request.pathname)).toBe('/dashboard/series/2026-10-25T00:00:00+02:00/2026-10-26T00:00:00+01:00');
    expect(Object.fromEntries(request.searchParams)).toEqual({ interval: '1h', tz: 'Europe/Berlin' });

    const bars = await readBars(h.page);
    expect(bars).toEqual(await api(request));
    expect(bars.slice(1, 5)).toEqual([
      { start: '2026-10-25T01:00:00.000000+02:00', count: 0, followups: 0 },
      { start: '2026-10-25T02:00:00.000000+02:00', count: 1, followups: 0 },
      { start: '2026-10-25T02:00:00.000000+01:00', count: 2, followups: 1 },
      { start: '2026-10-25T03:00:00.000000+01:00', count: 0, followups: 0 },
    ]);
    expect(bars.at(-1)).toEqual({ start: '2026-10-25T23:00:00.000000+01:00', count: 1, followups: 0 });
    expect(await h.page.textContent('#series-note')).toBe('Initial events per hour, from 2026-10-25 00:00:00+02:00 to 2026-10-26 00:00:00+01:00 (Europe/Berlin).');
    expect(await h.page.locator('#series-chart rect.bar').nth(3).locator('title').textContent()).toBe('2026-10-25 02:00:00 +01:00: 2 initial events, 1 followups');

    // Live: an event at 11:00 CET shows in its hour without asking.
    await seed('z', '2026-10-25 10:00:00');
    await expect.poll(async () => (await readBars(h.page))[12]).toEqual({ start: '2026-10-25T11:00:00.000000+01:00', count: 1, followups: 0 });
  });

  it('follows the zone shown, the interval chosen, and the range shown', async () => {
    await seed('e', '2026-10-25 00:30:00');
    await open('2026-10-25T10:00:00Z', 25);

    await h.page.getByRole('radio', { name: 'UTC', exact: true }).check();
    await expect.poll(async () => (await readBars(h.page)).length).toBe(24);
    expect((await readBars(h.page))[0]?.start).toBe('2026-10-25T00:00:00.000000+00:00');

    await h.page.getByLabel('Interval').selectOption('10m');
    await expect.poll(async () => (await readBars(h.page)).length).toBe(144);
    expect((await readBars(h.page))[3]).toEqual({ start: '2026-10-25T00:30:00.000000+00:00', count: 1, followups: 0 });

    // A range of three days in Berlin, auto: hours (the selector back on auto).
    await h.page.getByRole('radio', { name: 'Local time (Europe/Berlin)' }).check();
    await h.page.getByLabel('Interval').selectOption('auto');
    for (const [legend, date] of [['From (Europe/Berlin)', '2026-10-24'], ['To (Europe/Berlin)', '2026-10-27']]) {
      await h.page.getByRole('group', { name: legend }).getByLabel('Date').fill(date as string);
      await h.page.getByRole('group', { name: legend }).getByLabel('Time').fill('00:00');
    }
    const request = h.page.waitForRequest((r) => r.url().includes('/dashboard/series/2026-10-24'));
    await h.page.getByRole('button', { name: 'Show range' }).click();
    expect(new URL((await request).url()).searchParams.get('interval')).toBe('1h');
    await expect.poll(async () => (await readBars(h.page)).length).toBe(73);
    expect(await h.page.textContent('#series-note')).toContain('per hour');
  });
});

describe('the events-over-time chart in Asia/Kathmandu', () => {
  const { h, seed, open, api } = chartIn('Asia/Kathmandu');

  it('cuts the day into hours at :15 past the UTC hour, and says why the API refuses an interval', async () => {
    await seed('a', '2026-05-31 18:14:59.999999'); // 23:59:59.999999 +05:45, the day before
    await seed('a', '2026-05-31 18:15:00'); // 00:00 +05:45
    await seed('o', '2026-06-01 05:14:59.999999', 2); // 10:59:59.999999 +05:45
    const request = await open('2026-06-01T06:00:00Z', 24);
    expect(decodeURIComponent(request.pathname)).toBe('/dashboard/series/2026-06-01T00:00:00+05:45/2026-06-02T00:00:00+05:45');
    expect(request.searchParams.get('tz')).toMatch(/^Asia\/Kath?mandu$/);
    const bars = await readBars(h.page);
    expect(bars).toEqual(await api(request));
    expect(bars[0]).toEqual({ start: '2026-06-01T00:00:00.000000+05:45', count: 1, followups: 0 });
    expect(bars[10]).toEqual({ start: '2026-06-01T10:00:00.000000+05:45', count: 1, followups: 2 });
    expect(await h.page.locator('#series-chart text.time').first().textContent()).toBe('00:00');

    await h.page.getByLabel('Interval').selectOption('1d');
    await expect.poll(() => readBars(h.page)).toEqual([{ start: '2026-06-01T00:00:00.000000+05:45', count: 2, followups: 2 }]);

    // 30 days at 1 minute is past the API's 10,000 points: the note says what it answered.
    // Chromium's ICU may call the zone by its older name, Asia/Katmandu.
    for (const [legend, date] of [[/^From \(Asia\/Kat/, '2026-05-01'], [/^To \(Asia\/Kat/, '2026-05-31']] as const) {
      await h.page.getByRole('group', { name: legend }).getByLabel('Date').fill(date);
    }
    await h.page.getByLabel('Interval').selectOption('1m');
    await h.page.getByRole('button', { name: 'Show range' }).click();
    await expect.poll(() => h.page.textContent('#series-note')).toMatch(/^The chart cannot be shown: .* has more than 10000 points: use interval 10m/);
    expect(await readBars(h.page)).toEqual([]);
    // Chromium logs every 4xx answer to fetch() as a console error: that one is expected.
    const expected = (message: string) => /status of 400/.test(message);
    expect(h.errors.filter(expected)).toHaveLength(1);
    h.errors.splice(0, h.errors.length, ...h.errors.filter((message) => !expected(message)));
  });
});
