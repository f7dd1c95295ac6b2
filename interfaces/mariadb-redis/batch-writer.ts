// Micro-batched writes, shaped as group commit. Requests queue while batches are being committed
// and go together in the next one (one transaction in MariaDB, events-db.ts). A request is
// answered once its batch is committed: 200 means stored. The batch then goes to Redis
// (recovery.ts), off the answer's path.
//
// A batch leaves the queue once the batch before it is committed: meanwhile the queue fills, and
// every request that came during a commit goes in the next one. (A second batch sent as soon as
// the first held the partition's lock held the one or two requests that came in the meantime, and
// paid a whole transaction for them: half the batches were of one event, and it cost a fifth more
// CPU per event.) Only a batch whose COMMIT is in doubt (its connection lost, MariaDB asked whether
// it happened) lets the next one go before it ends, so it does not hold up the requests behind it:
// `lanes` batches in flight at most, all but one of them in doubt.
//
// A request's deadline counts from its arrival, whatever held it up in the queue: its batch must
// be stored by its first request's deadline (so one that waited behind a commit in doubt does not
// wait a whole deadline more). The queue is bounded, and after a failure new requests get a 503 at
// once for a moment instead of waiting on a backend that does not answer.

import { BackendUnavailableError, type FollowupResult, type InitialResult, type Letter, type RawEvent } from '../contract.ts';
import type { Micros } from '../time.ts';
import type { EventsDb } from './events-db.ts';
import type { Recovery } from './recovery.ts';

export interface BatchWriterOptions {
  /** Requests in one batch at most. */
  maxBatch: number;
  /** Requests waiting at most; past it a 503. */
  maxQueue: number;
  /** How long new requests are refused after the backend failed. */
  pauseAfterFailureMs: number;
  /** Batches in flight at once. */
  lanes: number;
  /**
   * No request waits longer (ms) from its arrival: one still queued then gets a 503 (nothing of it
   * was sent), and a batch must be stored by the time its first request's is up.
   */
  deadlineMs: number;
}

type Outcome = InitialResult | FollowupResult;

interface Request {
  event: RawEvent;
  /** When it came, on the monotonic clock (performance.now()). */
  arrivedAt: number;
  /** Refuses the request if it is still queued at its deadline (the batch before it held up). */
  timer: NodeJS.Timeout;
  resolve(outcome: Outcome): void;
  reject(error: unknown): void;
}

export class BatchWriter {
  readonly partition: number;
  /** Told of each batch committed: its events, and the seconds its transaction took. */
  onCommitted: ((events: number, seconds: number) => void) | undefined;
  private readonly db: EventsDb;
  private readonly recovery: Recovery;
  private readonly options: BatchWriterOptions;
  private queue: Request[] = [];
  /** Batches sent and not yet answered. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Of those, the batches whose COMMIT is in doubt. */
  private inDoubt = 0;
  /** New requests are refused until this instant of the monotonic clock (performance.now()). */
  private pausedUntil = 0;

  constructor(db: EventsDb, recovery: Recovery, partition: number, options: BatchWriterOptions) {
    this.db = db;
    this.recovery = recovery;
    this.partition = partition;
    this.options = options;
  }

  recordInitial(event: { uuid: string; symbol: Letter; guess: boolean; ts: Micros }): Promise<InitialResult> {
    return this.enqueue({ type: 'initial', ...event }) as Promise<InitialResult>;
  }

  recordFollowup(event: { uuid: string; ts: Micros }): Promise<FollowupResult> {
    return this.enqueue({ type: 'followup', ...event }) as Promise<FollowupResult>;
  }

  /**
   * The bulk path (loaders, benchmarks): the events go as one batch through the same commit, and
   * are in Redis when it resolves. Not to be mixed with requests in flight.
   */
  async writeEvents(events: RawEvent[]): Promise<void> {
    await this.recovery.project(await this.db.writeBatch(this.partition, events));
  }

  /** Resolves once every queued request is answered and its batch went to Redis. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    await this.recovery.projected();
  }

  private enqueue(event: RawEvent): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      if (performance.now() < this.pausedUntil) {
        reject(new BackendUnavailableError('the event store failed a moment ago'));
      } else if (this.queue.length >= this.options.maxQueue) {
        reject(new BackendUnavailableError(`overloaded: ${this.queue.length} writes already queued`));
      } else {
        const request: Request = {
          event,
          arrivedAt: performance.now(),
          resolve,
          reject,
          timer: setTimeout(() => {
            const at = this.queue.indexOf(request);
            if (at === -1) return;
            this.queue.splice(at, 1);
            reject(new BackendUnavailableError('the event store is too slow: the write waited too long to be sent'));
          }, this.options.deadlineMs),
        };
        this.queue.push(request);
        this.sendNext();
      }
    });
  }

  /** Sends the queue's next batch, unless a batch is in flight (not in doubt) or every lane is taken. */
  private sendNext(): void {
    if (this.inFlight.size > this.inDoubt || this.inFlight.size >= this.options.lanes || this.queue.length === 0) return;
    const sent: Promise<void> = this.write(this.takeBatch()).finally(() => {
      this.inFlight.delete(sent);
      this.sendNext();
    });
    this.inFlight.add(sent);
  }

  /** The next batch from the queue; its requests' queue deadlines no longer apply. */
  private takeBatch(): Request[] {
    const batch = this.queue.splice(0, this.options.maxBatch);
    for (const request of batch) clearTimeout(request.timer);
    return batch;
  }

  /** Commits one batch and answers its requests. */
  private async write(batch: Request[]): Promise<void> {
    let doubted = false;
    const inDoubt = () => {
      doubted = true;
      this.inDoubt++;
      this.sendNext();
    };
    try {
      const started = performance.now();
      const written = await this.db.writeBatch(this.partition, batch.map((request) => request.event), {
        // A request that waited for the batch before (a slow commit, one in doubt) has that much less.
        deadline: (batch[0] as Request).arrivedAt + this.options.deadlineMs,
        onInDoubt: inDoubt,
      });
      this.onCommitted?.(batch.length, (performance.now() - started) / 1000);
      batch.forEach((request, i) => {
        const outcome = written.outcomes[i] as Outcome | BackendUnavailableError;
        if (outcome instanceof BackendUnavailableError) request.reject(outcome);
        else request.resolve(outcome);
      });
      void this.recovery.project(written);
    } catch (error) {
      // Nothing of the batch was stored (or nobody can say: then no answer is given at all);
      // nothing of the queue behind it either.
      this.pausedUntil = performance.now() + this.options.pauseAfterFailureMs;
      for (const request of batch) request.reject(error);
      const refused = BackendUnavailableError.wrap(error, 'the event store (MariaDB)');
      for (const request of this.queue.splice(0)) {
        clearTimeout(request.timer);
        request.reject(refused);
      }
    } finally {
      if (doubted) this.inDoubt--;
    }
  }
}
