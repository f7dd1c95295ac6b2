// GET /events on the production interface: a client that goes away mid-export ends its read in
// MariaDB (the snapshot's transaction, and the connection), and the next export is whole.

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
import { ndjsonLine } from './raw-events.ts';

const EVENTS = 200_000;
const END = parseTimestamp('2026-11-01') as Micros;
const loaded = () => eventChunks(EVENTS, END, 'events-test', 10_000);
let mariadb: MariadbServer;
let redis: RedisServer;
let data: MariadbRedisInterface;
let server: Server;
let url: string;

beforeAll(async () => {
  [mariadb, redis] = await Promise.all([startMariadb(), startRedis()]);
  data = await openFresh({ adminUrl: mariadb.rootUrl, redisUrl: redis.url });
  for (const chunk of loaded()) await data.loadEvents(chunk);
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

/** Exports open in MariaDB: each reads in a read-only transaction (its snapshot) until it ends. */
/**
 * Exports open in MariaDB: each reads in a read-only transaction (its snapshot) until it ends.
 * InnoDB refreshes this table only when nobody read it for 100 ms: poll it more slowly than that.
 */
const openExports = async () => (await mariadb.query('SELECT trx_id FROM information_schema.INNODB_TRX WHERE trx_is_read_only = 1')).length;

it('ends the read in MariaDB when the client disconnects mid-export', async () => {
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
  // The server waits for the client: the export's snapshot is still open.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await openExports()).toBe(1);
  req.destroy();
  await expect.poll(openExports, { timeout: 10_000, interval: 250 }).toBe(0);
}, 30_000);

it('exports every event as it was loaded, in order, over 30 days read in windows of time', async () => {
  const response = await fetch(`${url}/events`);
  expect(response.status).toBe(200);
  const lines = (await response.text()).trimEnd().split('\n');
  expect(lines).toHaveLength(EVENTS);
  // The loader's events are in time order, one every 13 s on average: the export must match line by line.
  let i = 0;
  for (const chunk of loaded()) {
    for (const event of chunk) expect(lines[i++], `line ${i}`).toBe(ndjsonLine(event).trimEnd());
  }
  expect(await openExports()).toBe(0);
}, 60_000);
