// For tests and benchmarks: an empty elasticsearch interface on a node, isolated by an index of its
// own (events_<pid>_<n>), so one node serves many tests.

import { ElasticsearchInterface, type ElasticsearchOptions } from './index.ts';

let opened = 0;

export function openFreshIndex(url: string, options: Partial<ElasticsearchOptions> = {}): Promise<ElasticsearchInterface> {
  return ElasticsearchInterface.open({ url, index: `events_${process.pid}_${++opened}`, deadlineMs: 2000, ...options });
}
