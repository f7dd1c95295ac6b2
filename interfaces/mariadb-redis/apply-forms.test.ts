// apply-batch takes a batch's deltas in two forms (includes/merge-deltas.lua): per second and
// letter, fanned out by the script to the totals and a bucket of each level, or per hash and
// letter. Either way the hashes must hold exactly what the per-hash sums computed here say: the
// same fields as verify compares, after batches that add to fields already there, with events old
// enough that their fine buckets are no longer kept, and followups counted at their initial's time.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../test/servers/redis.ts';
import { LETTERS } from '../contract.ts';
import type { Micros } from '../time.ts';
import { DeltaSet } from './deltas.ts';
import type { BatchRef, CountedEvent } from './events-db.ts';
import { Rollups, storedFields } from './rollups.ts';

const SECOND = 1_000_000;
const DAY = 86_400 * SECOND;

let redis: RedisServer;
let rollups: Rollups;

beforeAll(async () => {
  redis = await startRedis();
  rollups = await Rollups.connect(redis.url, { deadlineMs: 5000 });
});

afterAll(async () => {
  rollups?.client.disconnect();
  await redis?.stop();
});

/** A deterministic batch: `n` initials (each with a followup every third) around `at`, within `spread`. */
function batch(seed: number, n: number, at: Micros, spread: Micros): CountedEvent[] {
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const events: CountedEvent[] = [];
  for (let i = 0; i < n; i++) {
    const symbol = LETTERS[Math.floor(next() * LETTERS.length)] as CountedEvent['symbol'];
    const initialTs = at - Math.floor(next() * spread);
    events.push({ kind: 'initial', symbol, initialTs });
    if (i % 3 === 0) events.push({ kind: 'followup', symbol, initialTs });
  }
  return events;
}

/** Applies `batches` in order to a partition starting empty, with or without the per-second form. */
async function applyAll(part: number, batches: CountedEvent[][], now: Micros, bySecond: boolean): Promise<void> {
  expect(await rollups.beginRebuild(part, 'lease', undefined)).toBe('taken');
  expect(await rollups.finishRebuild(part, 'lease', { seq: 0, token: 0 })).toBe(true);
  let mark: BatchRef = { seq: 0, token: 0 };
  for (const events of batches) {
    const next = { seq: mark.seq + 1, token: 7 };
    expect(await rollups.apply(part, mark, next, DeltaSet.of(events, now, bySecond))).toBe('applied');
    mark = next;
  }
}

async function expectHashes(part: number, expected: DeltaSet): Promise<void> {
  const names = [...expected.hashes.keys()];
  const stored = await rollups.storedHashes(part, names);
  names.forEach((name, i) => expect(stored[i], name).toEqual(storedFields(expected.hashes.get(name)!)));
  const present: string[] = [];
  for await (const page of rollups.aggregateHashes(part)) present.push(...page);
  expect(present.sort()).toEqual(names.sort());
}

describe('apply-batch, per second or per hash', () => {
  const now = Math.floor(Date.now() / 1000) * SECOND;
  const batches = [
    batch(1, 40, now, 2 * SECOND), // live: a second or two, as a batch of requests
    [...batch(2, 40, now, 2 * SECOND), ...batch(3, 6, now - 3 * DAY, 10 * SECOND)], // with events whose 1 s and 10 s buckets are gone
    batch(4, 30, now - 400 * DAY, DAY), // a year back, spread over a day: only the coarse levels
    batch(5, 40, now + SECOND, 2 * SECOND), // into the fields the first batches wrote
  ];
  const expected = DeltaSet.of(batches.flat(), now);

  it('per second and letter: the script fans the deltas out to every hash exactly', async () => {
    await applyAll(0, batches, now, true);
    await expectHashes(0, expected);
  });

  it('per hash and letter: the same hashes', async () => {
    await applyAll(1, batches, now, false);
    await expectHashes(1, expected);
  });
});
