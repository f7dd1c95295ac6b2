import { describe, expect, it } from 'vitest';
import { Coalesced } from './coalesced.ts';

/** A query that the test finishes by hand, counting the ones started. */
function manualRefresh() {
  const pending: { resolve(): void; reject(error: Error): void }[] = [];
  let started = 0;
  const refresh = () => new Promise<void>((resolve, reject) => {
    started++;
    pending.push({ resolve, reject });
  });
  return { refresh, pending, started: () => started };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('Coalesced: one query in flight, shared by the callers that come meanwhile', () => {
  it('starts a query at once when none is in flight', async () => {
    const manual = manualRefresh();
    const group = new Coalesced(manual.refresh);
    const done = group.get();
    expect(manual.started()).toBe(1);
    manual.pending[0]!.resolve();
    await expect(done).resolves.toBeUndefined();
  });

  it('a caller that comes during a query waits for the next one, which every such caller shares', async () => {
    const manual = manualRefresh();
    const group = new Coalesced(manual.refresh);
    const first = group.get();
    let laterDone = 0;
    const later = [group.get(), group.get(), group.get()].map((p) => p.then(() => laterDone++));
    manual.pending[0]!.resolve();
    await first;
    await settled();
    // The first query may have started before those callers came: it does not answer them.
    expect(laterDone).toBe(0);
    expect(manual.started()).toBe(2);
    manual.pending[1]!.resolve();
    await Promise.all(later);
    expect(laterDone).toBe(3);
    expect(manual.started()).toBe(2);
  });

  it('a failed query fails its callers; those queued behind it get a query of their own', async () => {
    const manual = manualRefresh();
    const group = new Coalesced(manual.refresh);
    const first = group.get();
    const second = group.get();
    manual.pending[0]!.reject(new Error('node down'));
    await expect(first).rejects.toThrow('node down');
    await settled();
    expect(manual.started()).toBe(2);
    manual.pending[1]!.resolve();
    await expect(second).resolves.toBeUndefined();
    // Nothing in flight now: the next caller starts one at once.
    void group.get();
    expect(manual.started()).toBe(3);
    manual.pending[2]!.resolve();
  });
});
