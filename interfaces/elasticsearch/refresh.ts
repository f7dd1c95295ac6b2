// Read-your-writes on a near-real-time engine: a search sees what the last refresh made visible,
// so a read first asks for a refresh that starts after the read came (an acknowledged write, from
// any process, is then visible). Refreshes are shared as commits are in group commit: one in
// flight; the reads that come meanwhile wait for the next one, which they share.

export class GroupRefresh {
  private readonly refresh: () => Promise<unknown>;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(refresh: () => Promise<unknown>) {
    this.refresh = refresh;
  }

  /** Resolves after a refresh that started no earlier than this call; rejects as that refresh does. */
  fresh(): Promise<void> {
    if (!this.running) return this.start();
    this.queued ??= this.running.then(() => this.start(), () => this.start());
    return this.queued;
  }

  private start(): Promise<void> {
    this.queued = undefined;
    const run: Promise<void> = this.refresh().then(() => undefined).finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
