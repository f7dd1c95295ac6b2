import { startBackends, freshStore, startServer } from './bench/servers.ts';
import { measureApart } from './bench/scenarios.ts';
const backends = await startBackends(true);
try {
  for (const connections of [32, 256]) {
    const store = await freshStore(backends, 'mariadb-redis', `c${connections}`);
    const server = await startServer(backends, store);
    const metric = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const get = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { batches: get('backend_batch_events_count'), events: get('backend_batch_events_sum'), commitSeconds: get('backend_batch_commit_seconds_sum'), single: get('backend_batch_events_bucket\\{le="1"\\}') };
    };
    const before = await metric();
    const m = await measureApart(server.url, 'ingest', { seconds: 15, connections, timeoutSeconds: 10 });
    const after = await metric();
    const batches = after.batches - before.batches, events = after.events - before.events;
    const cpu = m as unknown as { p99_ms: number };
    console.log(`${connections} conns: ${Math.round(m.rps)} rps p99 ${cpu.p99_ms.toFixed(1)} ms; ${batches} batches, ${(events / batches).toFixed(1)} events/batch, ${(100 * (after.single - before.single) / batches).toFixed(0)}% of one event, commit ${(1000 * (after.commitSeconds - before.commitSeconds) / batches).toFixed(2)} ms/batch`);
    await server.stop();
  }
} finally { await backends.stop(); }
