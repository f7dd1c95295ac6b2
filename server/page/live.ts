// The live dashboard's fan-out. While at least one page listens, the hub reads a snapshot, sends it
// to every open event stream if it changed, waits an interval, and reads again: the backend sees one
// read per interval whatever the number of pages, and none while nobody watches. Each server process
// has its own hub reading the shared backend, so every page sees every process's writes.

import type { Response } from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendUnavailableError } from '../../interfaces/contract.ts';
import { eventFrame, HEARTBEAT_FRAME, openEventStream } from './event-stream.ts';

export interface LiveHubOptions {
  /** Reads what every page shows. */
  read: () => Promise<unknown>;
  /** The pause between two reads (default 1 s). */
  intervalMs?: number;
  /** After this long without a frame, a heartbeat comment (default 15 s). */
  heartbeatMs?: number;
  /** A read failed after the previous one had succeeded (pages get an `unavailable` event). */
  onReadError?: (error: unknown) => void;
}

const RECONNECT_MS = 2000;

export class LiveHub {
  readonly #read: () => Promise<unknown>;
  readonly #intervalMs: number;
  readonly #heartbeatMs: number;
  readonly #onReadError: (error: unknown) => void;
  readonly #streams = new Set<Response>();
  /** Streams whose client has not taken the previous frame: they get the latest one on 'drain'. */
  readonly #behind = new Set<Response>();
  readonly #closing = new AbortController();
  /** The last frame sent: a new page starts from it, and an unchanged read sends nothing. */
  #latest: string | undefined;
  #lastSentAt = 0;
  #running = false;

  constructor(options: LiveHubOptions) {
    this.#read = options.read;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#onReadError = options.onReadError ?? (() => {});
  }

  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /** The streams open now. */
  get size(): number {
    return this.#streams.size;
  }

  /** Turns the response into an event stream of updates, until the client leaves or close(). */
  subscribe(res: Response): void {
    openEventStream(res, RECONNECT_MS);
    this.#streams.add(res);
    res.on('close', () => {
      this.#streams.delete(res);
      this.#behind.delete(res);
    });
    res.on('drain', () => {
      if (this.#behind.delete(res) && this.#latest !== undefined) res.write(this.#latest);
    });
    if (this.#latest !== undefined) res.write(this.#latest);
    if (!this.#running) void this.#run();
  }

  /**
   * Answers a HEAD of the stream: the headers a subscriber gets, then the end, taking no slot. (Node
   * sends no body in answer to a HEAD, so the reconnect line written after the headers is dropped.)
   */
  head(res: Response): void {
    openEventStream(res, RECONNECT_MS);
    res.end();
  }

  /** Ends every stream (their pages reconnect, to another server if this one stops) and reads no more. */
  close(): void {
    this.#closing.abort();
    for (const res of this.#streams) res.end();
    this.#streams.clear();
    this.#behind.clear();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#streams.size > 0 && !this.closed) {
        await this.#update();
        // Rejects only when close() aborts the pause, which the loop condition then sees.
        await sleep(this.#intervalMs, undefined, { signal: this.#closing.signal }).catch(() => undefined);
      }
    } finally {
      this.#running = false;
      // Nobody listens: a snapshot kept now would be stale for the next page.
      this.#latest = undefined;
    }
  }

  async #update(): Promise<void> {
    let frame: string;
    try {
      frame = eventFrame('update', await this.#read());
    } catch (error) {
      frame = eventFrame('unavailable', { error: publicMessage(error) });
      if (frame !== this.#latest) this.#onReadError(error);
    }
    if (frame !== this.#latest) {
      this.#latest = frame;
      this.#broadcast(frame);
    } else if (performance.now() - this.#lastSentAt >= this.#heartbeatMs) {
      this.#broadcast(HEARTBEAT_FRAME);
    }
  }

  #broadcast(frame: string): void {
    this.#lastSentAt = performance.now();
    for (const res of this.#streams) {
      // A client that does not read would make its buffer grow by a frame per change: skip it
      // until it drains, then give it the latest.
      if (res.writableNeedDrain) this.#behind.add(res);
      else res.write(frame);
    }
  }
}

/** What a page may be told about a failed read: a backend outage says so; anything else is logged only. */
function publicMessage(error: unknown): string {
  return error instanceof BackendUnavailableError ? error.message : 'internal error: the server logged it';
}
