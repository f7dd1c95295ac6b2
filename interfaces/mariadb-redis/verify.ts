// `npm run verify`: recomputes every aggregate from the raw events and compares it with Redis,
// reading only: it claims, reconciles and rebuilds nothing, so it reports what it finds.
//
// Three checks: each partition's mark against MariaDB's log and its hashes against a recomputation
// from a consistent snapshot of its raw events, the 26 symbol totals against plain SQL over all
// events (code that shares nothing with the write path: followups joined to their initials), and
// the followups' copies of their initial's letter and time against the initials.

import { LETTERS } from '../contract.ts';
import type { Micros } from '../time.ts';
import { DeltaSet } from './deltas.ts';
import type { EventsDb } from './events-db.ts';
import { partsInUse, standing } from './recovery.ts';
import { formatMark, storedFields, type Rollups } from './rollups.ts';
import { aggregateOf } from './view.ts';

export interface VerifyReport {
  differences: string[];
  events: number;
  hashes: number;
}

const COMPARE_BATCH = 500;
/** A fine bucket this close to its expiry may be left out of the recomputation (see buckets.ts). */
const EXPIRY_SLACK_SECONDS = 15 * 60;

/** Checks the partitions in use (the deployment's `partitions`, and any other the log has) and the symbol totals. */
export async function verify(db: EventsDb, rollups: Rollups, now: () => Micros, partitions: number, progress?: (text: string) => void): Promise<VerifyReport> {
  const report: VerifyReport = { differences: [], events: 0, hashes: 0 };
  const parts = await partsInUse(db, partitions);
  for (const part of parts) {
    progress?.(`partition ${part + 1}/${parts.length}`);
    await verifyPartition(db, rollups, now, part, report);
  }
  progress?.('symbol totals');
  await verifyTotals(db, rollups, parts, report);
  const outOfStep = await db.followupCopiesOutOfStep();
  if (outOfStep > 0) report.differences.push(`${outOfStep} followups carry a letter or time other than their initial's in MariaDB (what edges, tails and rebuilds count them by)`);
  return report;
}

async function verifyPartition(db: EventsDb, rollups: Rollups, now: () => Micros, part: number, report: VerifyReport): Promise<void> {
  const mark = await rollups.mark(part);
  const { head, expected } = await db.snapshot(part, async (head, events) => {
    const expected = new DeltaSet(now());
    for await (const event of events) {
      expected.addCounted(event);
      report.events++;
    }
    return { head, expected };
  });
  const where = await standing(db, part, head, mark);
  if (where !== 'current' && where !== 'empty') {
    const holds = mark === undefined ? 'no mark (its rollups are lost)' : `a mark at batch ${formatMark(mark)}`;
    report.differences.push(
      `partition ${part}: Redis holds ${holds}, MariaDB's log ends at batch ${formatMark(head)}: ${where}` +
        (where === 'behind' ? ' (a running server catches it up; npm run rebuild rebuilds it)' : ' (npm run rebuild rebuilds it)'),
    );
  }
  const hashes = [...expected.hashes.values()];
  for (let i = 0; i < hashes.length; i += COMPARE_BATCH) {
    const slice = hashes.slice(i, i + COMPARE_BATCH);
    const stored = await rollups.storedHashes(part, slice.map((hash) => hash.hash));
    slice.forEach((hash, j) => compareFields(`partition ${part}, ${hash.hash}`, storedFields(hash), stored[j] ?? {}, report));
    report.hashes += slice.length;
  }
  const known = new Set(hashes.map((hash) => hash.hash));
  for await (const page of rollups.aggregateHashes(part)) {
    for (const hash of page) {
      if (known.has(hash)) continue;
      const ttlSeconds = await rollups.ttl(part, hash);
      if (ttlSeconds === -1 || ttlSeconds > EXPIRY_SLACK_SECONDS) report.differences.push(`partition ${part}, ${hash}: in Redis, but no raw event counts there`);
    }
  }
}

function compareFields(where: string, want: Record<string, string>, have: Record<string, string>, report: VerifyReport): void {
  for (const field of new Set([...Object.keys(want), ...Object.keys(have)])) {
    if (want[field] !== have[field]) report.differences.push(`${where}, ${field}: raw events say ${want[field] ?? 'nothing'}, Redis ${have[field] ?? 'nothing'}`);
  }
}

async function verifyTotals(db: EventsDb, rollups: Rollups, parts: number[], report: VerifyReport): Promise<void> {
  const totals = await db.totals();
  const views = await rollups.read(parts.map((part) => ({ part, sum: ['total'], each: [] })));
  const sums = views.map((view) => view.letters);
  for (const letter of LETTERS) {
    const row = totals.find((total) => total.symbol === letter);
    const want = { count: row?.count ?? 0, symbol: letter, earliest: row?.lo ?? null, latest: row?.hi ?? null, followups: row?.followups ?? 0 };
    const have = aggregateOf(letter, sums, []);
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      report.differences.push(`symbol ${letter}: raw events say ${JSON.stringify(want)}, Redis's totals ${JSON.stringify(have)}`);
    }
  }
}
