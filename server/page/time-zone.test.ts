// The dashboard page in the reader's time zone, in a real Chromium set to Europe/Berlin: times shown
// there by default (to the microsecond, with their offset) or in UTC at the reader's choice, and the
// range picker read in the zone shown, so that a day across the end of summer time (Sunday
// 2026-10-25: 03:00 CEST is 02:00 CET again) counts the 25 hours it really had.

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteInterface } from '../../interfaces/sqlite.ts';
import { parseTimestamp, type Micros } from '../../interfaces/time.ts';
import { createApp } from '../app.ts';
import { collectPageErrors, launchChromium, type Chromium } from './chromium.ts';

interface Aggregate {
  symbol: string;
  count: number;
  followups: number;
  earliest: string | null;
  latest: string | null;
}

/** The table's rows by letter: the count from its <data value>, the timestamps as shown. */
async function readTable(page: Page): Promise<Record<string, { count: string; earliest: string; latest: string }>> {
  const rows = await page.$$eval('#letters tbody tr', (trs) =>
    trs.map((tr) => {
      const cells = [...tr.querySelectorAll('td')];
      return {
        letter: tr.querySelector('th')?.textContent ?? '',
        count: cells[0]?.querySelector('data')?.value ?? '',
        earliest: cells[3]?.textContent ?? '',
        latest: cells[4]?.textContent ?? '',
      };
    }),
  );
  return Object.fromEntries(rows.map(({ letter, ...row }) => [letter, row]));
}

describe('dashboard page in the Europe/Berlin time zone', () => {
  let chromium: Chromium;
  let data: SqliteInterface;
  let server: Server;
  let url: string;
  let now: Micros;
  let page: Page;
  let pageErrors: string[];

  /** An initial event of `symbol` at `utc` (the API's format, in UTC). */
  const seed = async (symbol: string, utc: string) => {
    now = parseTimestamp(utc) as Micros;
    const response = await fetch(`${url}/initial?uuid=${randomUUID()}&symbol=${symbol}`, { method: 'POST' });
    expect(response.status).toBe(200);
  };
  const getJson = async (path: string): Promise<Aggregate[]> => (await fetch(url + path)).json();
  const openDashboard = async () => {
    await page.goto(`${url}/dashboard`);
    await page.waitForSelector('#letters:not([aria-busy])');
  };
  const chooseZone = (name: string) => page.getByRole('radio', { name, exact: true }).check();
  const fillBound = async (legend: string, date: string, time: string) => {
    await page.getByRole('group', { name: legend }).getByLabel('Date').fill(date);
    await page.getByRole('group', { name: legend }).getByLabel('Time').fill(time);
  };
  /** Submits the range form; resolves with the path of the API request the page made. */
  const showRange = async () => {
    const request = page.waitForRequest((r) => r.url().includes('/dashboard/range/'));
    await page.getByRole('button', { name: 'Show range' }).click();
    return new URL((await request).url()).pathname;
  };

  beforeAll(async () => {
    chromium = await launchChromium(undefined, 'Europe/Berlin');
  });
  afterAll(async () => {
    await chromium?.close();
  });

  beforeEach(async () => {
    data = await SqliteInterface.open(':memory:');
    now = parseTimestamp('2026-01-01') as Micros;
    server = createApp({ data, clock: () => now }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    page = await chromium.context.newPage();
    page.setDefaultTimeout(10_000);
    pageErrors = collectPageErrors(page);
  });
  afterEach(async () => {
    await page.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await data.close();
    expect(pageErrors, 'console errors or exceptions on the page').toEqual([]);
  });

  it('counts the local day of the change to winter time as its 25 hours, and in UTC as the UTC bounds say', async () => {
    await seed('b', '2026-10-24 21:59:59.999999'); // 23:59:59.999999 CEST, the day before
    await seed('c', '2026-10-24 22:00:00'); // 00:00 CEST: the first instant of the day
    await seed('r', '2026-10-25 00:30:00.000001'); // 02:30 CEST...
    await seed('r', '2026-10-25 01:30:00.000002'); // ...and 02:30 CET, the hour that repeats
    await seed('l', '2026-10-25 22:30:00'); // 23:30 CET: past 24 hours after the start
    await seed('d', '2026-10-25 22:59:59.999999'); // 23:59:59.999999 CET: the last instant of the day
    await seed('f', '2026-10-25 23:00:00'); // 00:00 CET, the next day
    await openDashboard();

    await fillBound('From (Europe/Berlin)', '2026-10-25', '00:00');
    await fillBound('To (Europe/Berlin)', '2026-10-26', '00:00');
    // Each bound with its own offset, the `+` sent as %2B (a bare `+` would read as a space).
    expect(await showRange()).toBe('/dashboard/range/2026-10-25T00%3A00%3A00%2B02%3A00/2026-10-26T00%3A00%3A00%2B01%3A00');
    await expect.poll(() => page.textContent('#view-heading')).toBe('From 2026-10-25 00:00:00+02:00 to 2026-10-26 00:00:00+01:00 (Europe/Berlin)');

    // The API over that exact 25-hour UTC span: not 24 hours from the start, nor the UTC day.
    const api = await getJson('/dashboard/range/2026-10-24T22:00Z/2026-10-25T23:00Z');
    const counts = (aggregates: Aggregate[]) => Object.fromEntries(aggregates.map((a) => [a.symbol, a.count]));
    expect(counts(api)).toMatchObject({ b: 0, c: 1, r: 2, l: 1, d: 1, f: 0 });
    const table = await readTable(page);
    expect(Object.fromEntries(Object.entries(table).map(([letter, row]) => [letter, Number(row.count)]))).toEqual(counts(api));
    expect(table.c).toMatchObject({ earliest: '2026-10-25 00:00:00.000000+02:00' });
    expect(table.r).toMatchObject({ earliest: '2026-10-25 02:30:00.000001+02:00', latest: '2026-10-25 02:30:00.000002+01:00' });
    expect(table.d).toMatchObject({ latest: '2026-10-25 23:59:59.999999+01:00' });

    // In UTC the inputs and the heading show the same instants, and the page asks in UTC.
    await chooseZone('UTC');
    await expect.poll(() => page.textContent('#view-heading')).toBe('From 2026-10-24 22:00:00 to 2026-10-25 23:00:00 (UTC)');
    expect(await page.getByRole('group', { name: 'From (UTC)' }).getByLabel('Date').inputValue()).toBe('2026-10-24');
    expect(await page.getByRole('group', { name: 'From (UTC)' }).getByLabel('Time').inputValue()).toBe('22:00:00');
    expect((await readTable(page)).c).toMatchObject({ earliest: '2026-10-24 22:00:00.000000' });
    expect(await showRange()).toBe('/dashboard/range/2026-10-24T22%3A00%3A00Z/2026-10-25T23%3A00%3A00Z');
    expect(Number((await readTable(page)).l?.count)).toBe(1);
  });

  it('shows timestamps in local time by default, in UTC once chosen, and keeps the choice', async () => {
    await seed('e', '2017-01-15 23:30:00.000001'); // winter: 00:30 CET the next day
    await seed('e', '2017-06-28 19:34:14.486693'); // summer: 21:34 CEST
    await openDashboard();
    const api = (await getJson('/dashboard/range/1970-01-01/2200-01-01')).find((a) => a.symbol === 'e');
    expect(api).toMatchObject({ earliest: '2017-01-15 23:30:00.000001', latest: '2017-06-28 19:34:14.486693' });

    expect((await readTable(page)).e).toMatchObject({ earliest: '2017-01-16 00:30:00.000001+01:00', latest: '2017-06-28 21:34:14.486693+02:00' });
    expect(await page.getByRole('radio', { name: 'Local time (Europe/Berlin)' }).isChecked()).toBe(true);
    await expect(page.getByRole('columnheader', { name: 'Earliest (Europe/Berlin)' }).count()).resolves.toBe(1);
    expect(await page.textContent('#updated-at')).toMatch(/^Updated at \d\d:\d\d:\d\d \(Europe\/Berlin\)\.$/);

    await chooseZone('UTC');
    expect((await readTable(page)).e).toMatchObject({ earliest: api!.earliest, latest: api!.latest });
    await expect(page.getByRole('columnheader', { name: 'Earliest (UTC)' }).count()).resolves.toBe(1);
    expect(await page.textContent('#updated-at')).toMatch(/\(UTC\)\.$/);

    await openDashboard();
    expect(await page.getByRole('radio', { name: 'UTC', exact: true }).isChecked()).toBe(true);
    expect((await readTable(page)).e).toMatchObject({ earliest: api!.earliest });
  });

  it('reads a repeated local time as its first occurrence, and a skipped one as the time after the jump', async () => {
    await openDashboard();
    await fillBound('From (Europe/Berlin)', '2026-10-25', '02:30');
    await fillBound('To (Europe/Berlin)', '2026-10-26', '00:00');
    expect(decodeURIComponent(await showRange())).toBe('/dashboard/range/2026-10-25T02:30:00+02:00/2026-10-26T00:00:00+01:00');

    // On 2026-03-29 clocks jump from 02:00 CET to 03:00 CEST: 02:30 is not on them.
    await fillBound('From (Europe/Berlin)', '2026-03-29', '02:30');
    await fillBound('To (Europe/Berlin)', '2026-03-30', '00:00');
    expect(decodeURIComponent(await showRange())).toBe('/dashboard/range/2026-03-29T03:30:00+02:00/2026-03-30T00:00:00+02:00');
  });

  it('presets today in the local zone: at 00:30 CEST on the day of the change, that day, 25 hours', async () => {
    // 2026-10-24 in UTC, but already the 25th in Berlin.
    await page.clock.setFixedTime(new Date('2026-10-24T22:30:00Z'));
    await openDashboard();
    expect(await page.getByRole('group', { name: 'From (Europe/Berlin)' }).getByLabel('Date').inputValue()).toBe('2026-10-25');
    expect(await page.getByRole('group', { name: 'To (Europe/Berlin)' }).getByLabel('Date').inputValue()).toBe('2026-10-26');
    expect(decodeURIComponent(await showRange())).toBe('/dashboard/range/2026-10-25T00:00:00+02:00/2026-10-26T00:00:00+01:00');
  });
});
