// Worker thread for the differential test: the naive sqlite interface takes over a second per range
// on 100k events (26 full scans and self-joins, by design), so the test shares the ranges among
// threads. Each feeds the same seeded stream to its own in-memory sqlite and answers its ranges.

import { parentPort, workerData } from 'node:worker_threads';
import { SqliteInterface } from '../sqlite.ts';
import type { Micros } from '../time.ts';
import { generateEvents, recordEvent, type StreamOptions } from './event-stream.ts';

const { stream, ranges } = workerData as { stream: StreamOptions; ranges: [Micros, Micros][] };
const store = await SqliteInterface.open(':memory:');
for (const { event } of generateEvents(stream)) await recordEvent(store, event);
const answers = [];
for (const [lower, upper] of ranges) answers.push(await store.rangeAggregates(lower, upper));
await store.close();
parentPort?.postMessage(answers);
