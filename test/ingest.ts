// A small ingest driver for fault tests: sends initials (and some followups) through HTTP, retries
// whatever was not acknowledged (503, a dropped connection) until it is, and records what was.

import { randomUUID } from 'node:crypto';
import { LETTERS, type Letter } from '../interfaces/contract.ts';

export interface Acknowledged {
  /** uuid -> symbol of every initial answered 200. */
  initials: Map<string, Letter>;
  /** uuid of every followup answered 200, once per answer. */
  followups: string[];
  /** Answers that were not 200 (503 mostly) and network errors, all retried. */
  refusals: number;
  /** The slowest refusal, in ms: a 503 must come quickly. */
  slowestRefusalMs: number;
}

export interface DriveOptions {
  /** Base URLs; requests rotate over them (several server processes). */
  urls: string[];
  initials: number;
  concurrency: number;
  /** Every n-th initial gets a followup. */
  followupEvery?: number;
  /** Called after each acknowledged initial, with the number so far (to inject faults mid-run). */
  onProgress?: (acknowledged: number) => void | Promise<void>;
  /** Give up on one request after this long (a real failure, not a fault being ridden out). */
  retryForMs?: number;
}

export async function drive(options: DriveOptions): Promise<Acknowledged> {
  const acknowledged: Acknowledged = { initials: new Map(), followups: [], refusals: 0, slowestRefusalMs: 0 };
  let next = 0;
  let turn = 0;
  const send = async (path: string): Promise<string> => {
    const giveUpAt = Date.now() + (options.retryForMs ?? 60_000);
    for (;;) {
      const url = options.urls[turn++ % options.urls.length] as string;
      const started = performance.now();
      const response = await fetch(url + path, { method: 'POST' }).catch(() => undefined);
      if (response?.status === 200) return response.text();
      const body = await response?.text().catch(() => '');
      if (response && response.status !== 503) throw new Error(`POST ${path}: ${response.status} ${body}`);
      acknowledged.refusals++;
      acknowledged.slowestRefusalMs = Math.max(acknowledged.slowestRefusalMs, performance.now() - started);
      if (Date.now() > giveUpAt) throw new Error(`POST ${path} was refused for ${options.retryForMs ?? 60_000} ms: ${body}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const worker = async () => {
    while (next < options.initials) {
      const i = next++;
      const uuid = randomUUID();
      const symbol = LETTERS[i % 26] as Letter;
      await send(`/initial?uuid=${uuid}&symbol=${symbol}`);
      acknowledged.initials.set(uuid, symbol);
      await options.onProgress?.(acknowledged.initials.size);
      if (options.followupEvery && i % options.followupEvery === 0) {
        await send(`/followup?uuid=${uuid}`);
        acknowledged.followups.push(uuid);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return acknowledged;
}

/** Initials per letter, as the acknowledged events say. */
export function countsByLetter(acknowledged: Acknowledged): Map<Letter, number> {
  const counts = new Map<Letter, number>();
  for (const symbol of acknowledged.initials.values()) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
  return counts;
}
