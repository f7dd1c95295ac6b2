// The reference rows of the ingest runs, in the same run as the interfaces:
// - node-http, express: POST /initial answered by a bare node:http handler, or by one bare Express
//   route, with nothing else (no parsing, no store): what the platform allows on this machine;
// - durable-floor: what any durable ingest pays. node:http, and group commit into MariaDB: one
//   multi-row INSERT per batch as its only transaction (autocommit), one batch in flight, the requests
//   that arrive meanwhile in the next; each answered once its batch committed. No validation, no
//   dedup, no aggregates.
// - same-work-floor: the durable floor plus the work mariadb-redis does, at its cheapest (same-work-floor.ts).
// `node bench/reference-server.ts node-http|express PORT`, `... durable-floor PORT MARIADB_URL` or
// `... same-work-floor PORT MARIADB_URL REDIS_URL`

import http from 'node:http';
import express from 'express';
import mysql from 'mysql2/promise';
import { sameWorkFloor } from './same-work-floor.ts';

const [kind, port, mariadbUrl, redisUrl] = process.argv.slice(2);
const listen = (server: http.Server) => server.listen(Number(port), '127.0.0.1');

if (kind === 'node-http') {
  listen(
    http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('True');
    }),
  );
} else if (kind === 'express') {
  const app = express();
  app.post('/initial', (_req, res) => void res.type('text').send('True'));
  app.get('/healthz', (_req, res) => void res.json({ up: true }));
  listen(http.createServer(app));
} else if (kind === 'durable-floor') {
  const db = mysql.createPool({ uri: mariadbUrl, connectionLimit: 1 });
  await db.query('CREATE TABLE IF NOT EXISTS floor_events (id BIGINT AUTO_INCREMENT PRIMARY KEY, uuid BINARY(16) NOT NULL, symbol CHAR(1), ts BIGINT NOT NULL) ENGINE=InnoDB');
  let waiting: { row: unknown[]; res: http.ServerResponse; answer: string }[] = [];
  let committing = false;
  const commitWaiting = async () => {
    committing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      const status = await db.query('INSERT INTO floor_events (uuid, symbol, ts) VALUES ?', [batch.map((request) => request.row)]).then(() => 200, () => 503);
      for (const { res, answer } of batch) res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(status === 200 ? answer : 'not stored');
    }
    committing = false;
  };
  listen(
    http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/healthz') return void res.end('up');
      const uuid = Buffer.from((url.searchParams.get('uuid') ?? '').replaceAll('-', ''), 'hex');
      waiting.push({ row: [uuid, url.searchParams.get('symbol'), Date.now() * 1000], res, answer: url.pathname === '/followup' ? 'hooray' : 'True' });
      if (!committing) void commitWaiting();
    }),
  );
} else if (kind === 'same-work-floor') {
  await sameWorkFloor(Number(port), mariadbUrl!, redisUrl!);
} else {
  throw new Error(`reference server: unknown kind ${kind}; use node-http, express, durable-floor or same-work-floor`);
}
