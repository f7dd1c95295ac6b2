// Saves a picture of the dashboard page with some data, for the README:
//   node server/page/screenshot.ts [docs/dashboard.png]
// The app runs on an in-memory sqlite interface filled with a reproducible sample: English letter
// frequencies over two days, with some followups. The browser is in Europe/Berlin, so that the
// picture is the same on any machine and shows the page's local times.

import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { LETTERS, type DataInterface, type Letter } from '../../interfaces/contract.ts';
import { SqliteInterface } from '../../interfaces/sqlite.ts';
import { parseTimestamp, type Micros } from '../../interfaces/time.ts';
import { createApp } from '../app.ts';
import { collectPageErrors, launchChromium } from './chromium.ts';

const OUTPUT = process.argv[2] ?? 'docs/dashboard.png';
const EVENTS = 3000;
const START = parseTimestamp('2017-06-28 00:00:00') as Micros;
const SPAN: Micros = 2 * 86_400_000_000;
// Percent of English text, a to z.
const FREQUENCIES = [
  8.2, 1.5, 2.8, 4.3, 12.7, 2.2, 2.0, 6.1, 7.0, 0.15, 0.77, 4.0, 2.4,
  6.7, 7.5, 1.9, 0.095, 6.0, 6.3, 9.1, 2.8, 0.98, 2.4, 0.15, 2.0, 0.074,
];

/** mulberry32: a small seeded generator, so that the picture shows the same numbers every time. */
function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function fillSample(data: DataInterface): Promise<void> {
  const random = seededRandom(2017);
  const total = FREQUENCIES.reduce((sum, f) => sum + f, 0);
  const pickLetter = (): Letter => {
    let draw = random() * total;
    return LETTERS.find((_letter, i) => (draw -= FREQUENCIES[i]!) < 0) ?? 'z';
  };
  const times = Array.from({ length: EVENTS }, () => START + Math.floor(random() * SPAN)).sort((a, b) => a - b);
  for (const ts of times) {
    const uuid = randomUUID();
    const symbol = pickLetter();
    await data.recordInitial({ uuid, symbol, guess: 'aeiou'.includes(symbol), ts });
    if (random() < 0.15) await data.recordFollowup({ uuid, ts: ts + 1_000_000 });
  }
}

const data = await SqliteInterface.open(':memory:');
await fillSample(data);
const server = createApp({ data }).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const chromium = await launchChromium({ width: 1100, height: 800 }, 'Europe/Berlin');
try {
  const page = await chromium.context.newPage();
  const errors = collectPageErrors(page);
  // The page's today is the sample's second day, so that its chart of events over time has data.
  await page.clock.setFixedTime(new Date('2017-06-29T16:00:00Z'));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`);
  await page.waitForSelector('#letters:not([aria-busy])');
  await page.waitForSelector('#series-chart rect.bar');
  if (errors.length > 0) throw new Error(`the page reported errors:\n${errors.join('\n')}`);
  await mkdir(path.dirname(OUTPUT), { recursive: true });
  await page.screenshot({ path: OUTPUT, fullPage: true });
  console.log(`saved ${OUTPUT}`);
} finally {
  await chromium.close();
  server.closeAllConnections();
  server.close();
  await data.close();
}
