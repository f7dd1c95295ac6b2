import { describe, expect, it } from 'vitest';
import { GroupRefresh } from './refresh.ts';

/** A refresh that the test finishes by hand, counting the ones started. */
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

describe('GroupRefresh', () => {
  it('starts a refresh at once when none is in flight', async () => {
    const manual = manualRefresh();
    const group = new GroupRefresh(manual.refresh);
    const done = group.fresh();
    expect(manual.started()).toBe(1);
    manual.pending[0]!.resolve();
    await expect(done).resolves.toBeUndefined();
  });

  it('a read that comes during a refresh waits for the next one, which every such read shares', async () => {
    const manual = manualRefresh();
    const group = new GroupRefresh(manual.refresh);
    const first = group.fresh();
    let laterDone = 0;
    const later = [group.fresh(), group.fresh(), group.fresh()].map((p) => p.then(() => laterDone++));
    manual.pending[0]!.resolve();
    await first;
    await settled();
    // The first refresh may have started before those reads came: it does not answer them.
    expect(laterDone).toBe(0);
    expect(manual.started()).toBe(2);
    manual.pending[1]!.resolve();
    await Promise.all(later);
    expect(laterDone).toBe(3);
    expect(manual.started()).toBe(2);
  });

  it('a failed refresh fails its reads; the reads queued behind it get a refresh of their own', async () => {
    const manual = manualRefresh();
    const group = new GroupRefresh(manual.refresh);
    const first = group.fresh();
    const second = group.fresh();
    manual.pending[0]!.reject(new Error('node down'));
    await expect(first).rejects.toThrow('node down');
    await settled();
    expect(manual.started()).toBe(2);
    manual.pending[1]!.resolve();
    await expect(second).resolves.toBeUndefined();
    // Nothing in flight now: the next read starts one at once.
    void group.fresh();
    expect(manual.started()).toBe(3);
    manual.pending[2]!.resolve();
  });
});
