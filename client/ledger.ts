// --ledger: one NDJSON line per request attempt, written as the answers come.

import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Letter } from '../interfaces/contract.ts';
import type { Route } from './stats.ts';

export interface LedgerEntry {
  /** When the request was sent, `YYYY-MM-DD HH:MM:SS.ffffff` UTC like the API's timestamps. */
  time: string;
  route: Route;
  uuid: string;
  symbol: Letter;
  /** null when no answer came; `error` then says why. */
  status: number | null;
  answer: string | null;
  latency_ms: number | null;
  error?: string;
}

export class Ledger {
  readonly #stream: WriteStream;

  private constructor(stream: WriteStream) {
    this.#stream = stream;
  }

  /** Resolves once the file is open, so a bad path stops the client before the first request. */
  static async open(path: string): Promise<Ledger> {
    const stream = createWriteStream(path);
    await once(stream, 'open');
    return new Ledger(stream);
  }

  async write(entry: LedgerEntry): Promise<void> {
    // Waiting for the disk when its buffer is full slows the run down instead of growing memory.
    if (!this.#stream.write(`${JSON.stringify(entry)}\n`)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}
