// Faults on a real Elasticsearch node: the service must lose no acknowledged event and count none
// twice. Each test ends with expectExact: the raw export holds exactly what the ledger says was
// acknowledged, and every dashboard (symbol, range, series) says what the export says. The faults
// are injected from outside (kill -9 of the node's JVM, index blocks set over its REST API): the
// service has no test hooks.

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { drive, expectExact, newLedger, post, probe, type Entry, type Probe } from '../../test/ingest.ts';
import { startElasticsearch, type ElasticsearchServer } from '../../test/servers/elasticsearch.ts';
import type { ElasticsearchInterface } from './index.ts';
import { openFreshIndex } from './fresh.ts';

let node: ElasticsearchServer;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  node = await startElasticsearch();
}, 180_000);
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});
afterAll(async () => {
  await node?.stop();
});

let indices = 0;
async function openServed(): Promise<{ data: ElasticsearchInterface; url: string; index: string }> {
  const index = `faults_${process.pid}_${++indices}`;
  const data = await openFreshIndex(node.url, { index });
  cleanups.push(() => data.close());
  const server = createApp({ data }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  return { data, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, index };
}

/** A write and a dashboard asked at once: their statuses, Retry-After and time to answer. */
async function askBoth(ledger: ReturnType<typeof newLedger>, url: string): Promise<{ write: Entry; dashboard: Probe }> {
  const [write, dashboard] = await Promise.all([
    post(ledger, url, { route: 'initial', uuid: randomUUID(), symbol: 'a' }, 5000),
    probe(`${url}/dashboard/symbol/a`, 5000),
  ]);
  return { write, dashboard };
}

describe('elasticsearch under faults', () => {
  it('the node killed (kill -9) under load and started again: 503 with Retry-After within 2 s while down; nothing acknowledged lost or counted twice', async () => {
    const { data, url } = await openServed();
    const ledger = newLedger();
    let outage: { write: Entry; dashboard: Probe } | undefined;
    await drive({
      ledger,
      urls: [url],
      initials: 2000,
      concurrency: 8,
      followupEvery: 4,
      retryForMs: 150_000,
      onProgress: async (n) => {
        if (n !== 600) return;
        await node.kill('SIGKILL');
        outage = await askBoth(ledger, url);
        await node.restart();
      },
    });
    expect(outage?.write.status).toBe(503);
    expect(outage?.write.retryAfter).toBeGreaterThan(0);
    expect(outage?.write.ms).toBeLessThan(2000);
    expect(outage?.dashboard.status).toBe(503);
    expect(outage?.dashboard.retryAfter).toMatch(/^\d+$/);
    expect(outage?.dashboard.ms).toBeLessThan(2000);
    await expectExact(ledger, { urls: [url], data });
  }, 300_000);

  it('an index that blocks writes (read_only, and the disk watermark\'s read_only_allow_delete) answers 503 with Retry-After, not 500; reads go on; nothing lost', async () => {
    const { data, url, index } = await openServed();
    const ledger = newLedger();
    const blocked: Record<string, { write: Entry; dashboard: Probe }> = {};
    const block = async (setting: string) => {
      await node.request('PUT', `/${index}/_settings`, { [setting]: true });
      blocked[setting] = await askBoth(ledger, url);
      await node.request('PUT', `/${index}/_settings`, { [setting]: null });
    };
    await drive({
      ledger,
      urls: [url],
      initials: 1200,
      concurrency: 8,
      followupEvery: 3,
      onProgress: async (n) => {
        if (n === 300) await block('index.blocks.read_only');
        if (n === 700) await block('index.blocks.read_only_allow_delete');
      },
    });
    for (const setting of ['index.blocks.read_only', 'index.blocks.read_only_allow_delete']) {
      expect(blocked[setting]?.write.status, setting).toBe(503);
      expect(blocked[setting]?.write.retryAfter, setting).toBeGreaterThan(0);
      expect(blocked[setting]?.dashboard.status, setting).toBe(200);
    }
    await expectExact(ledger, { urls: [url], data });
  }, 300_000);
});
