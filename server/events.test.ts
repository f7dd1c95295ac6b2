// GET /events on the production interface: a client that goes away mid-export ends MariaDB's query
// (and frees its connection), and the next export is whole.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventChunks } from '../bench/load.ts';
import type { MariadbRedisInterface } from '../interfaces/mariadb-redis/index.ts';
import { openFresh } from '../interfaces/mariadb-redis/fresh.ts';
import { parseTimestamp, type Micros } from '../interfaces/time.ts';
import { startMariadb, type MariadbServer } from '../test/servers/mariadb.ts';
import { startRedis, type RedisServer } from '../test/servers/redis.ts';
import { createApp } from './app.ts';

const EVENTS = 200_000;
let mariadb: MariadbServer;
let redis: RedisServer;
let data: MariadbRedisInterface;
let server: Server;
let url: string;

beforeAll(async () => {
  [mariadb, redis] = await Promise.all([startMariadb(), startRedis()]);
  data = await openFresh({ adminUrl: mariadb.rootUrl, redisUrl: redis.url });
  for (const chunk of eventChunks(EVENTS, parseTimestamp('2026-11-01') as Micros, 'events-test', 10_000)) await data.loadEvents(chunk);
  server = createApp({ data }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await data?.close();
  await Promise.all([mariadb?.stop(), redis?.stop()]);
});

const exportQueries = async () =>
  (await mariadb.query("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT * FROM (%UNION ALL%'")).length;

it('ends the query in MariaDB when the client disconnects mid-export', async () => {
  const { req, received } = await new Promise<{ req: http.ClientRequest; received: number }>((resolve, reject) => {
    const req = http.get(`${url}/events`, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // Past the first chunks, with most rows still to come, the client stops reading.
        if (bytes > 256 * 1024 && !res.isPaused()) {
          res.pause();
          resolve({ req, received: bytes });
        }
      });
    });
    req.on('error', (error) => (error.message === 'socket hang up' ? undefined : reject(error)));
  });
  expect(received).toBeLessThan(EVENTS * 20);
  // The server waits for the client, and MariaDB for the server: the query is still open.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await exportQueries()).toBe(1);
  req.destroy();
  await expect.poll(exportQueries, { timeout: 10_000 }).toBe(0);
}, 30_000);

it('exports every event, in order, when the client reads to the end', async () => {
  const response = await fetch(`${url}/events`);
  expect(response.status).toBe(200);
  const lines = (await response.text()).trimEnd().split('\n');
  expect(lines).toHaveLength(EVENTS);
  const stamps = lines.map((line) => (JSON.parse(line) as { ts: string }).ts);
  expect(stamps.every((ts, i) => i === 0 || ts >= (stamps[i - 1] as string))).toBe(true);
  expect(await exportQueries()).toBe(0);
}, 60_000);
