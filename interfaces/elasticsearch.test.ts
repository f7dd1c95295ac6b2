// The contract suites, unchanged, on elasticsearch: a throwaway node (test/servers/elasticsearch.ts),
// each test on an index of its own; then what two server processes on one index must agree on.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startElasticsearch, type ElasticsearchServer } from '../test/servers/elasticsearch.ts';
import { openFreshIndex } from './elasticsearch/fresh.ts';
import { ElasticsearchInterface } from './elasticsearch/index.ts';
import { collect, dataInterfaceContract } from './testing/contract-suite.ts';
import { httpContract } from './testing/http-contract.ts';

let node: ElasticsearchServer;

beforeAll(async () => {
  node = await startElasticsearch();
}, 180_000);
afterAll(async () => {
  await node?.stop();
});

const open = () => openFreshIndex(node.url);

dataInterfaceContract('elasticsearch', open);
httpContract('elasticsearch', open);

describe('elasticsearch interface, beyond the contract', () => {
  const T0 = 1_498_678_454_486_693;
  const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

  it('two server processes on one index: a write acknowledged by one is in the other\'s next read; one initial per uuid between them', async () => {
    const one = await open();
    const other = await ElasticsearchInterface.open({ url: node.url, index: one.index, deadlineMs: 2000 });
    try {
      for (let i = 1; i <= 20; i++) {
        expect(await one.recordInitial({ uuid: uuid(i), symbol: 'e', guess: false, ts: T0 + i })).toEqual({ outcome: 'recorded' });
        expect(await other.recordFollowup({ uuid: uuid(i), ts: T0 + 100 + i })).toEqual({ outcome: 'recorded' });
        // No wait: the near-real-time refresh (1 s) would not have shown either yet.
        expect(await other.symbolAggregate('e')).toEqual({ count: i, symbol: 'e', earliest: T0 + 1, latest: T0 + i, followups: i });
        expect((await one.rangeAggregates(T0, T0 + 1000))[4]).toEqual({ count: i, symbol: 'e', earliest: T0 + 1, latest: T0 + i, followups: i });
      }
      // The same uuid from both at once: exactly one is recorded, the other answers as a retry or a conflict.
      const answers = await Promise.all([
        one.recordInitial({ uuid: uuid(99), symbol: 'a', guess: true, ts: T0 + 200 }),
        other.recordInitial({ uuid: uuid(99), symbol: 'a', guess: false, ts: T0 + 201 }),
      ]);
      expect(answers.filter((answer) => answer.outcome === 'recorded')).toHaveLength(1);
      expect(answers.filter((answer) => answer.outcome === 'repeat')).toHaveLength(1);
      expect((await collect(other.exportEvents())).filter((event) => event.uuid === uuid(99))).toHaveLength(1);
    } finally {
      await Promise.all([one.close(), other.close()]);
    }
  });
});
