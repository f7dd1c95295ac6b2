// The reference rows of the ingest runs: POST /initial answered by a bare node:http handler, or by one
// bare Express route, with nothing else (no parsing, no store). They show what the platform allows
// on this machine, in the same run as the interfaces.
// `node bench/reference-server.ts node-http|express PORT`

import http from 'node:http';
import express from 'express';

const [kind, port] = process.argv.slice(2);
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
} else {
  throw new Error(`reference server: unknown kind ${kind}; use node-http or express`);
}
