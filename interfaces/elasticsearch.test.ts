// The contract suites, unchanged, on elasticsearch: a throwaway node (test/servers/elasticsearch.ts),
// each test on an index of its own.

import { afterAll, beforeAll } from 'vitest';
import { startElasticsearch, type ElasticsearchServer } from '../test/servers/elasticsearch.ts';
import { openFreshIndex } from './elasticsearch/fresh.ts';
import { dataInterfaceContract } from './testing/contract-suite.ts';
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
