import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from './contract.ts';
import { SqliteInterface } from './sqlite.ts';
import { collect, dataInterfaceContract, expectAnswersOf, probeRanges } from './testing/contract-suite.ts';
import { generateEvents, Random } from './testing/event-stream.ts';
import { httpContract } from './testing/http-contract.ts';
import { Oracle } from './testing/oracle.ts';
import { parseTimestamp } from './time.ts';

const T0 = parseTimestamp('2017-06-28 19:34:14.486693')!;
const DAY = 86_400_000_000;

let folder: string;
let files = 0;
beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'sqlite-interface-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A path no test used yet, in a folder that does not exist yet (open creates it). */
function freshFile(): string {
  files += 1;
  return path.join(folder, `store-${files}`, 'events.sqlite3');
}

dataInterfaceContract('sqlite', () => SqliteInterface.open(freshFile()));
httpContract('sqlite', () => SqliteInterface.open(freshFile()));

describe('sqlite interface, beyond the contract', () => {
  const initial = { uuid: '00000000-0000-4000-8000-000000000001', symbol: 'e', guess: false, ts: T0 } as const;

  it('loads a large stream in one transaction with the answers of the oracle', async () => {
    const requests = generateEvents({ seed: 7, initials: 20_000, start: T0, spanMicros: 30 * DAY });
    const oracle = new Oracle();
    for (const { event } of requests) expect(oracle.record(event).outcome).toBe('recorded');
    const store = await SqliteInterface.open(freshFile());
    try {
      await store.loadEvents(requests.map(({ event }) => event));
      await expectAnswersOf(store, oracle, probeRanges(new Random(2), requests.map(({ event }) => event.ts), 12));
    } finally {
      await store.close();
    }
  });

  it('keeps its data when the file is closed and opened again', async () => {
    const file = freshFile();
    const first = await SqliteInterface.open(file);
    await first.recordInitial(initial);
    await first.recordFollowup({ uuid: initial.uuid, ts: T0 + 1 });
    await first.close();

    const reopened = await SqliteInterface.open(file);
    try {
      expect(await reopened.symbolAggregate('e')).toEqual({ count: 1, symbol: 'e', earliest: T0, latest: T0, followups: 1 });
      expect(await collect(reopened.exportEvents())).toHaveLength(2);
      expect(await reopened.recordInitial({ ...initial, guess: true })).toEqual({ outcome: 'repeat', guess: false });
    } finally {
      await reopened.close();
    }
  });

  it('agrees with another connection to the same file (another server process) on a uuid', async () => {
    const file = freshFile();
    const [one, other] = [await SqliteInterface.open(file), await SqliteInterface.open(file)];
    try {
      expect(await one.recordInitial(initial)).toEqual({ outcome: 'recorded' });
      expect(await other.recordInitial({ ...initial, guess: true })).toEqual({ outcome: 'repeat', guess: false });
      expect(await other.recordInitial({ ...initial, symbol: 'a' })).toEqual({ outcome: 'conflict', symbol: 'e' });
      expect(await other.recordFollowup({ uuid: initial.uuid, ts: T0 + 1 })).toEqual({ outcome: 'recorded' });
      expect(await one.symbolAggregate('e')).toEqual({ count: 1, symbol: 'e', earliest: T0, latest: T0, followups: 1 });
    } finally {
      await Promise.all([one.close(), other.close()]);
    }
  });

  it('answers BackendUnavailableError while another connection locks the file, and recovers', async () => {
    const file = freshFile();
    const store = await SqliteInterface.open(file, { busyTimeoutMs: 0 });
    const locker = new Database(file);
    try {
      locker.exec('BEGIN EXCLUSIVE');
      await expect(store.recordInitial(initial)).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(store.symbolAggregate('e')).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(store.ping()).rejects.toBeInstanceOf(BackendUnavailableError);
      locker.exec('COMMIT');
      expect(await store.recordInitial(initial)).toEqual({ outcome: 'recorded' });
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      locker.close();
      await store.close();
    }
  });

  it("works in memory (':memory:')", async () => {
    const store = await SqliteInterface.open(':memory:');
    try {
      await store.recordInitial(initial);
      expect(await store.symbolAggregate('e')).toEqual({ count: 1, symbol: 'e', earliest: T0, latest: T0, followups: 0 });
    } finally {
      await store.close();
    }
  });
});
