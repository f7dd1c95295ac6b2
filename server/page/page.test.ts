// The dashboard page in a real Chromium, over the app on the sqlite interface: the page must show
// what the JSON API says, live and for a range, under its CSP, with no console error.

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LETTERS, type DataInterface } from '../../interfaces/contract.ts';
import { SqliteInterface } from '../../interfaces/sqlite.ts';
import { parseTimestamp, type Micros } from '../../interfaces/time.ts';
import { createApp } from '../app.ts';
import { collectPageErrors, launchChromium, type Chromium } from './chromium.ts';
import { expectedRows, readTable } from './letter-table.ts';

const T0 = parseTimestamp('2017-06-28 19:00:00') as Micros;
const MINUTE = 60_000_000;

describe('dashboard page in Chromium', () => {
  let chromium: Chromium;
  let data: DataInterface;
  let server: Server;
  let url: string;
  let now: Micros;
  let page: Page;
  let pageErrors: string[];

  const post = async (path: string) => {
    const response = await fetch(url + path, { method: 'POST' });
    expect(response.status, `POST ${path}`).toBe(200);
  };
  const getJson = async (path: string) => (await fetch(url + path)).json();
  /** An initial event `minutes` after T0, and `followups` followups of it. */
  const seed = async (symbol: string, minutes: number, followups = 0) => {
    const uuid = randomUUID();
    now = T0 + minutes * MINUTE;
    await post(`/initial?uuid=${uuid}&symbol=${symbol}`);
    for (let i = 0; i < followups; i++) await post(`/followup?uuid=${uuid}`);
  };
  /** The page, in UTC: it starts in the system's zone, and these tests read the API's UTC times on it. */
  const openDashboard = async () => {
    await page.goto(`${url}/dashboard`);
    await page.waitForSelector('#letters:not([aria-busy])');
    await page.getByRole('radio', { name: 'UTC', exact: true }).check();
  };
  const rangeGroup = (legend: string) => page.getByRole('group', { name: legend });

  beforeAll(async () => {
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
  });

  beforeEach(async () => {
    data = await SqliteInterface.open(':memory:');
    now = T0;
    server = createApp({ data, clock: () => now }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    page = await chromium.context.newPage();
    pageErrors = collectPageErrors(page);
  });
  afterEach(async () => {
    await page.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await data.close();
    expect(pageErrors, 'console errors or exceptions on the page').toEqual([]);
  });

  it('is served at /dashboard, / leads there, with strict security headers', async () => {
    const response = await page.goto(`${url}/`);
    expect(page.url()).toBe(`${url}/dashboard`);
    const headers = response!.headers();
    expect(headers['content-type']).toMatch(/^text\/html/);
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    await expect(page.title()).resolves.toContain('Dashboard');
  });

  it('fails a test on a CSP violation: the policy holds and the console shows it', async () => {
    await openDashboard();
    await page.evaluate(() => document.body.setAttribute('style', 'outline: 3px solid red'));
    await expect.poll(() => pageErrors.join('\n')).toMatch(/Content Security Policy/);
    pageErrors.length = 0; // seen: this test provoked it
  });

  it('shows the same numbers as the JSON API for all 26 letters, with a bar per letter', async () => {
    await seed('e', 0, 2);
    await seed('e', 5, 1);
    await seed('a', 7);
    await seed('t', 9, 3);
    await seed('z', 12);
    await openDashboard();

    const api = await Promise.all(LETTERS.map((letter) => getJson(`/dashboard/symbol/${letter}`)));
    expect(await readTable(page)).toEqual(expectedRows(api));
    expect(await page.locator('#letters tfoot [class=number] data').first().getAttribute('value')).toBe('5');
    expect(await page.locator('#chart rect.bar').count()).toBe(26);
    const tallest = await page.$$eval('#chart rect.bar', (bars) =>
      bars.reduce((top, bar) => (Number(bar.getAttribute('height')) > Number(top.getAttribute('height')) ? bar : top)).textContent,
    );
    expect(tallest).toMatch(/^e: 2$/);
  });

  it('updates the numbers without reload when events arrive', async () => {
    await seed('q', 0);
    await openDashboard();
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    const countOf = async (letter: string) => (await readTable(page)).find((row) => row.letter === letter)?.count;
    expect(await countOf('q')).toBe('1');

    await seed('q', 3, 1);
    await expect.poll(() => countOf('q'), { timeout: 5000 }).toBe('2');
    expect(await readTable(page)).toEqual(expectedRows(await getJson('/dashboard/range/1970-01-01/2200-01-01')));
    expect(await page.evaluate(() => 'sameDocument' in window)).toBe(true);
    expect(await page.textContent('#live-status')).toMatch(/^Live:/);
  });

  it('shows a chosen range, as the API counts it', async () => {
    for (let minute = 0; minute < 10; minute++) await seed(minute % 2 === 0 ? 'o' : 'k', minute, minute % 3);
    await openDashboard();

    await rangeGroup('From (UTC)').getByLabel('Date').fill('2017-06-28');
    await rangeGroup('From (UTC)').getByLabel('Time').fill('19:02:00');
    await rangeGroup('To (UTC)').getByLabel('Date').fill('2017-06-28');
    await rangeGroup('To (UTC)').getByLabel('Time').fill('19:07:00');
    await page.keyboard.press('Enter'); // submits from the keyboard, still in the last input

    await expect.poll(() => page.textContent('#view-heading')).toContain('2017-06-28 19:02:00');
    const api = await getJson(`/dashboard/range/${encodeURIComponent('2017-06-28 19:02:00')}/${encodeURIComponent('2017-06-28 19:07:00')}`);
    expect(api.find((a: { symbol: string }) => a.symbol === 'o').count).toBe(3); // 19:02, 19:04, 19:06; not 19:00 nor 19:08
    expect(await readTable(page)).toEqual(expectedRows(api));
  });

  it("shows the API's error for an invalid range", async () => {
    await openDashboard();
    await rangeGroup('From (UTC)').getByLabel('Date').fill('2017-06-29');
    await rangeGroup('From (UTC)').getByLabel('Time').fill('00:00');
    await rangeGroup('To (UTC)').getByLabel('Date').fill('2017-06-28');
    await rangeGroup('To (UTC)').getByLabel('Time').fill('00:00');
    await page.getByRole('button', { name: 'Show range' }).click();

    // In UTC, the page gives each bound with a Z.
    const response = await fetch(`${url}/dashboard/range/2017-06-29T00:00:00Z/2017-06-28T00:00:00Z`);
    expect(response.status).toBe(400);
    const { error } = await response.json();
    await expect.poll(() => page.textContent('[role=alert]')).toBe(error);
    // Chromium logs every 4xx answer to fetch() as a console error: that one is expected.
    const expected = (message: string) => /status of 400/.test(message);
    expect(pageErrors.filter(expected)).toHaveLength(1);
    pageErrors.splice(0, pageErrors.length, ...pageErrors.filter((message) => !expected(message)));
  });

  it('fits a narrow screen: only the table and the chart scroll sideways', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await openDashboard();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
