// Writer partitions: each writer claims one of its own in Redis (not with MariaDB's GET_LOCK,
// which Galera does not have), and any number of partitions works with any data: reads, mending
// and verify cover every partition the log has, whatever the deployment's PARTITIONS says.

import { describe, expect, it } from 'vitest';
import { useFaultServers } from '../../test/fault-servers.ts';
import { drive, expectExact } from '../../test/ingest.ts';
import { verify } from './verify.ts';

const servers = useFaultServers();

describe('writer partitions', () => {
  it('each writer claims a partition no other holds; more writers than partitions share; a closed one is claimed again', async () => {
    const writers = [await servers.openInterface({ partitions: 3 }), await servers.openInterface({ partitions: 3 }), await servers.openInterface({ partitions: 3 })];
    expect(writers.map((writer) => writer.partition).sort()).toEqual([0, 1, 2]);
    const extra = await servers.openInterface({ partitions: 3 });
    expect([0, 1, 2]).toContain(extra.partition);
    const leaving = writers[1]?.partition;
    await writers[1]?.close();
    expect((await servers.openInterface({ partitions: 3 })).partition).toBe(leaving);
  });

  it('refuses a partition count MariaDB cannot number', async () => {
    await expect(servers.openInterface({ partitions: 0 })).rejects.toThrow(/partitions: 0; use a whole number from 1 to 256/);
    await expect(servers.openInterface({ partitions: 257 })).rejects.toThrow(/partitions: 257/);
  });

  it('a deployment of 2 partitions reads, mends and verifies what one of 16 wrote to partition 11', async () => {
    const wide = await servers.openInterface({ partitions: 16, partition: 11 });
    const ledger = await drive({ urls: [await servers.serve(wide)], initials: 600, concurrency: 8, followupEvery: 3 });
    await wide.close();
    // Redis restarts empty: partition 11's rollups must be rebuilt by a deployment that never writes it.
    await servers.redis.flushAll();
    const narrow = await servers.openInterface({ partitions: 2 });
    const url = await servers.serve(narrow);
    await drive({ ledger, urls: [url], initials: 200, concurrency: 8, followupEvery: 3 });
    await expectExact(ledger, { urls: [url], data: narrow });
    const report = await verify(narrow.db, narrow.rollups, narrow.now, 2);
    expect(report.differences).toEqual([]);
    const followups = [...ledger.followups.values()].reduce((sum, n) => sum + n, 0);
    expect(report.events).toBe(ledger.initials.size + followups);
  });
});
