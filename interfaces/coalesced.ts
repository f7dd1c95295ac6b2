// One query at a time for many callers, each of whom needs an answer that began after it asked:
// the heads of the log (mariadb-redis/view.ts), a refresh of the index (elasticsearch). Shared as
// commits are in group commit: one in flight; the callers that come meanwhile share the next one.

/**
 * One query at a time for many callers: a caller joins the next query to start, never one already
 * running (it could have started before the caller's request, and miss a write acknowledged since).
 */
export class Coalesced<T> {
  private readonly query: () => Promise<T>;
  private running: Promise<T> | undefined;
  private next: Promise<T> | undefined;

  constructor(query: () => Promise<T>) {
    this.query = query;
  }

  get(): Promise<T> {
    if (!this.running) return this.start();
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  private startNext(): Promise<T> {
    this.next = undefined;
    return this.start();
  }

  private start(): Promise<T> {
    const running = this.query().finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }
}
