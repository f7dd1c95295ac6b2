// GET /metrics with WORKERS > 1: the server process that takes the request asks the primary, which
// gathers every process's registry and sums them (prom-client's AggregatorRegistry), so the answer
// is the whole server's whichever process answers.

import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'vowel-analytics:metrics-request';
const ANSWER = 'vowel-analytics:metrics-answer';
const ANSWER_TIMEOUT_MS = 6000; // the aggregator itself gives up on silent processes after 5 s

interface Request {
  type: typeof REQUEST;
  id: number;
}
type Answer = { type: typeof ANSWER; id: number } & ({ text: string } | { error: string });

/** In the primary: answers the server processes' requests with the sum of all their metrics. */
export function aggregateWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: Partial<Request> | undefined) => {
    if (message?.type !== REQUEST || message.id === undefined) return;
    const id = message.id;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id, text } satisfies Answer),
      (error: Error) => worker.send({ type: ANSWER, id, error: error.message } satisfies Answer),
    );
  });
}

/** In a server process: offers `registry` to the primary's aggregator; returns how to ask it for the sum. */
export function clusterMetricsOf(registry: Registry): () => Promise<string> {
  new AggregatorRegistry(); // makes this process answer the primary's requests
  AggregatorRegistry.setRegistries(registry);
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  process.on('message', (message: Partial<Answer> | undefined) => {
    if (message?.type !== ANSWER || message.id === undefined) return;
    const request = waiting.get(message.id);
    waiting.delete(message.id);
    if ('text' in message && message.text !== undefined) request?.resolve(message.text);
    else request?.reject(new Error(`the primary could not gather the metrics: ${'error' in message ? message.error : 'no reason'}`));
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the primary did not answer with the metrics within ${ANSWER_TIMEOUT_MS} ms`));
      }, ANSWER_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      process.send?.({ type: REQUEST, id } satisfies Request);
    });
}
