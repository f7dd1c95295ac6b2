// Micro-batched writes. Requests queue while a batch is being committed and go together in the
// next one (one transaction in MariaDB, events-db.ts). A request is answered once its batch is
// committed: 200 means stored. The batch then goes to Redis (recovery.ts), off the answer's path.
//
// Two batches may be in flight (lanes): the second's statements wait at MariaDB for the first's
// commit (its lock on the partition's last batch), so it commits right after, and a batch whose
// COMMIT is in doubt (its connection lost) does not hold up the requests behind it.
//
// The queue is bounded, and after a failure new requests get a 503 at once for a moment instead of
// waiting on a backend that does not answer.

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
  /** A request still queued this long (ms) gets a 503: nothing of it was sent. */
  maxWaitMs: number;
}

type Outcome = InitialResult | FollowupResult;

interface Request {
  event: RawEvent;
  /** Refuses the request if it is still queued at its deadline (both lanes held up). */
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
  private readonly lanes = new Set<Promise<void>>();
  /** Lanes still taking batches (a lane leaves the set a moment after it stops taking them). */
  private activeLanes = 0;
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
    while (this.lanes.size > 0) await Promise.all(this.lanes);
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
          resolve,
          reject,
          timer: setTimeout(() => {
            const at = this.queue.indexOf(request);
            if (at === -1) return;
            this.queue.splice(at, 1);
            reject(new BackendUnavailableError('the event store is too slow: the write waited too long to be sent'));
          }, this.options.maxWaitMs),
        };
        this.queue.push(request);
        if (this.activeLanes < this.options.lanes) this.startLane();
      }
    });
  }

  private startLane(): void {
    this.activeLanes++;
    const lane: Promise<void> = this.writeQueued().finally(() => this.lanes.delete(lane));
    this.lanes.add(lane);
  }

  /** The next batch from the queue; its requests' queue deadlines no longer apply. */
  private takeBatch(): Request[] {
    const batch = this.queue.splice(0, this.options.maxBatch);
    for (const request of batch) clearTimeout(request.timer);
    return batch;
  }

  /** Commits the queue batch after batch; each batch's requests are answered as it commits. */
  private async writeQueued(): Promise<void> {
    for (;;) {
      // Checked and counted in one step: a request queued after this starts a lane of its own.
      if (this.queue.length === 0) {
        this.activeLanes--;
        return;
      }
      const batch = this.takeBatch();
      if (batch.length === 0) continue;
      try {
        const started = performance.now();
        const written = await this.db.writeBatch(
          this.partition,
          batch.map((request) => request.event),
        );
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
      }
    }
  }
}
