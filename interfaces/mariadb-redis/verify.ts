// `npm run verify`: recomputes every aggregate from the raw events and compares it with Redis.
//
// Two checks: each partition's hashes against a recomputation from a consistent snapshot of its
// raw events, and the 26 symbol dashboards against plain SQL over all events (code that shares
// nothing with the write path).

import type { RowDataPacket } from 'mysql2/promise';
import { LETTERS } from '../contract.ts';
import { DeltaSet, type HashDelta } from './deltas.ts';
import type { MariadbRedisInterface } from './index.ts';
import { PARTITIONS } from './rollups.ts';

export interface VerifyReport {
  differences: string[];
  events: number;
  hashes: number;
}

const COMPARE_BATCH = 500;
/** A fine bucket this close to its expiry may be left out of the recomputation (see buckets.ts). */
const EXPIRY_SLACK_SECONDS = 15 * 60;

export async function verify(data: MariadbRedisInterface, progress?: (text: string) => void): Promise<VerifyReport> {
  const report: VerifyReport = { differences: [], events: 0, hashes: 0 };
  for (let part = 0; part < PARTITIONS; part++) {
    progress?.(`partition ${part + 1}/${PARTITIONS}`);
    await verifyPartition(data, part, report);
  }
  progress?.('symbol totals');
  await verifyTotals(data, report);
  return report;
}

async function verifyPartition(data: MariadbRedisInterface, part: number, report: VerifyReport): Promise<void> {
  const { db, rollups } = data;
  const connection = await db.pool.getConnection();
  let expected: DeltaSet;
  let lastSeq: number;
  try {
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [rows] = await connection.query<RowDataPacket[]>('SELECT COALESCE(MAX(seq), 0) AS seq FROM batches WHERE part = ?', [part]);
    lastSeq = Number(rows[0]?.seq ?? 0);
    expected = new DeltaSet(data.now());
    for await (const event of db.partitionEvents(connection, part)) {
      if (event.kind === 'initial') expected.addInitial(event.symbol, event.initialTs);
      else expected.addFollowup(event.symbol, event.initialTs);
      report.events++;
    }
    await connection.query('COMMIT');
  } finally {
    connection.release();
  }

  const mark = await rollups.mark(part);
  if (mark !== lastSeq) {
    report.differences.push(
      `partition ${part}: Redis holds batches up to ${mark ?? 'none (its rollups are lost)'}, MariaDB up to ${lastSeq}` +
        ' (writes going on, or a batch not yet applied: a running server reconciles it; npm run rebuild rebuilds it)',
    );
    return;
  }
  const hashes = [...expected.hashes.values()];
  for (let i = 0; i < hashes.length; i += COMPARE_BATCH) {
    const slice = hashes.slice(i, i + COMPARE_BATCH);
    const pipeline = rollups.client.pipeline();
    for (const hash of slice) pipeline.hgetall(rollups.key(part, hash.hash));
    const replies = (await pipeline.exec()) ?? [];
    slice.forEach((hash, j) => compareHash(part, hash, (replies[j]?.[1] ?? {}) as Record<string, string>, report));
    report.hashes += slice.length;
  }
  await findUnexpectedKeys(data, part, new Set(hashes.map((hash) => rollups.key(part, hash.hash))), report);
}

/** Hashes Redis has that the raw events do not explain (fine buckets about to expire aside). */
async function findUnexpectedKeys(data: MariadbRedisInterface, part: number, expected: Set<string>, report: VerifyReport): Promise<void> {
  const { rollups } = data;
  for await (const keys of rollups.aggregateKeys(part)) {
    for (const key of keys) {
      if (expected.has(key)) continue;
      const ttl = await rollups.client.ttl(key);
      if (ttl === -1 || ttl > EXPIRY_SLACK_SECONDS) report.differences.push(`${key}: in Redis, but no raw event counts there`);
    }
  }
}

function compareHash(part: number, expected: HashDelta, actual: Record<string, string>, report: VerifyReport): void {
  const want: Record<string, string> = {};
  for (const [letter, delta] of expected.letters) {
    if (delta.count > 0) Object.assign(want, { [`c${letter}`]: `${delta.count}`, [`l${letter}`]: `${delta.lo}`, [`h${letter}`]: `${delta.hi}` });
    if (delta.followups > 0) want[`f${letter}`] = `${delta.followups}`;
  }
  for (const field of new Set([...Object.keys(want), ...Object.keys(actual)])) {
    if (want[field] !== actual[field]) {
      report.differences.push(`partition ${part}, ${expected.hash}, ${field}: raw events say ${want[field] ?? 'nothing'}, Redis ${actual[field] ?? 'nothing'}`);
    }
  }
}

async function verifyTotals(data: MariadbRedisInterface, report: VerifyReport): Promise<void> {
  const [initials] = await data.db.pool.query<RowDataPacket[]>('SELECT symbol, COUNT(*) AS n, MIN(ts) AS lo, MAX(ts) AS hi FROM initials GROUP BY symbol');
  const [followups] = await data.db.pool.query<RowDataPacket[]>(
    'SELECT i.symbol, COUNT(*) AS n FROM followups f JOIN initials i ON i.uuid = f.uuid GROUP BY i.symbol',
  );
  for (const letter of LETTERS) {
    const row = initials.find((r) => r.symbol === letter);
    const want = {
      count: Number(row?.n ?? 0),
      earliest: row ? Number(row.lo) : null,
      latest: row ? Number(row.hi) : null,
      followups: Number(followups.find((r) => r.symbol === letter)?.n ?? 0),
    };
    const { count, earliest, latest, followups: got } = await data.symbolAggregate(letter);
    const have = { count, earliest, latest, followups: got };
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      report.differences.push(`symbol ${letter}: raw events say ${JSON.stringify(want)}, the dashboard ${JSON.stringify(have)}`);
    }
  }
}
