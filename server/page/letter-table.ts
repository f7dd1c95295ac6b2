// The page's table of letters read back as text, to compare with the JSON API: for the browser
// tests and for `npm run test:vm`, which opens a VM's page in the host's Chromium.

import type { Page } from 'playwright-core';

/** A row of the page's table, as text: numbers from their <data value>, timestamps as shown. */
export interface Row {
  letter: string;
  count: string;
  followups: string;
  rate: string;
  earliest: string;
  latest: string;
}

/** What the table must show for the API's JSON objects. */
export function expectedRows(aggregates: { symbol: string; count: number; followups: number; earliest: string | null; latest: string | null }[]): Row[] {
  return aggregates.map((a) => ({
    letter: a.symbol,
    count: String(a.count),
    followups: String(a.followups),
    rate: a.count === 0 ? '' : String(a.followups / a.count),
    earliest: a.earliest ?? '—',
    latest: a.latest ?? '—',
  }));
}

export function readTable(page: Page): Promise<Row[]> {
  return page.$$eval('#letters tbody tr', (rows) =>
    rows.map((row) => {
      const cells = [...row.querySelectorAll('td')];
      const value = (i: number) => cells[i]?.querySelector('data')?.value ?? '';
      return {
        letter: row.querySelector('th')?.textContent ?? '',
        count: value(0),
        followups: value(1),
        rate: value(2),
        earliest: cells[3]?.textContent ?? '',
        latest: cells[4]?.textContent ?? '',
      };
    }),
  );
}
