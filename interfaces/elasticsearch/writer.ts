// Group commit for a store that takes many writes in one request (Elasticsearch's _bulk): one batch
// in flight at a time; the requests that arrive meanwhile wait in the queue and leave together as
// the next batch once it has answered. A request is answered with its batch: 200 means stored.
//
// The queue is bounded, a request still queued at its deadline gets a 503 (nothing of it was sent),
// and after a failed batch new requests get a 503 at once for a moment instead of waiting on a
// backend that does not answer. (mariadb-redis/batch-writer.ts is the same shape around MariaDB's
// transactions, with lanes for commits in doubt; a _bulk in doubt fails its batch instead.)

import { BackendUnavailableError } from '../contract.ts';

export interface GroupCommitOptions {
  /** Requests in one batch at most. */
  maxBatch: number;
  /** Requests waiting at most; past it a 503. */
  maxQueue: number;
  /** A request still queued this long (ms) gets a 503. */
  maxWaitMs: number;
  /** How long new requests are refused after a batch failed. */
  pauseAfterFailureMs: number;
  /** Named in the 503s. */
  backend: string;
}

interface Request<E, O> {
  event: E;
  timer: NodeJS.Timeout;
  resolve(outcome: O): void;
  reject(error: unknown): void;
}

/**
 * `write` stores a batch and answers each event's outcome in order (an Error rejects that request
 * alone); when it throws, every request of the batch and of the queue behind it is refused.
 */
export class GroupCommit<E, O> {
  private readonly write: (events: E[]) => Promise<(O | Error)[]>;
  private readonly options: GroupCommitOptions;
  private queue: Request<E, O>[] = [];
  private inFlight: Promise<void> | undefined;
  /** New requests are refused until this instant of the monotonic clock. */
  private pausedUntil = 0;

  constructor(write: (events: E[]) => Promise<(O | Error)[]>, options: GroupCommitOptions) {
    this.write = write;
    this.options = options;
  }

  submit(event: E): Promise<O> {
    return new Promise((resolve, reject) => {
      if (performance.now() < this.pausedUntil) {
        reject(new BackendUnavailableError(`${this.options.backend} failed a moment ago`));
      } else if (this.queue.length >= this.options.maxQueue) {
        reject(new BackendUnavailableError(`overloaded: ${this.queue.length} writes already queued`));
      } else {
        const request: Request<E, O> = {
          event,
          resolve,
          reject,
          timer: setTimeout(() => {
            const at = this.queue.indexOf(request);
            if (at === -1) return;
            this.queue.splice(at, 1);
            reject(new BackendUnavailableError(`${this.options.backend} is too slow: the write waited too long to be sent`));
          }, this.options.maxWaitMs),
        };
        this.queue.push(request);
        this.sendNext();
      }
    });
  }

  /** Resolves once every request submitted so far is answered. */
  async drain(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private sendNext(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    for (const request of batch) clearTimeout(request.timer);
    this.inFlight = this.commit(batch).finally(() => {
      this.inFlight = undefined;
      this.sendNext();
    });
  }

  private async commit(batch: Request<E, O>[]): Promise<void> {
    try {
      const outcomes = await this.write(batch.map((request) => request.event));
      batch.forEach((request, i) => {
        const outcome = outcomes[i] as O | Error;
        if (outcome instanceof Error) request.reject(outcome);
        else request.resolve(outcome);
      });
    } catch (error) {
      this.pausedUntil = performance.now() + this.options.pauseAfterFailureMs;
      for (const request of batch) request.reject(error);
      const refused = BackendUnavailableError.wrap(error, this.options.backend);
      for (const request of this.queue.splice(0)) {
        clearTimeout(request.timer);
        request.reject(refused);
      }
    }
  }
}
