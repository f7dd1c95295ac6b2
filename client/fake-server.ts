// A stand-in for the real server in the client's own tests: the four routes over an in-memory
// map, plus the faults the client must cope with (a miscount, 503s).

import type { AddressInfo } from 'node:net';
import express from 'express';
import { LETTERS, isLetter, type Letter } from '../interfaces/contract.ts';
import { formatMicros, parseTimestamp, systemClock, type Micros } from '../interfaces/time.ts';

export interface FakeServerOptions {
  /** Answer 200 to every n-th new initial but forget it: a server that miscounts. */
  forgetEveryNthInitial?: number;
  /** Answer this many POSTs with 503 and `Retry-After: 0` before serving them. */
  unavailableFor?: number;
}

export interface FakeServer {
  url: string;
  initials: Map<string, { symbol: Letter; guess: boolean; ts: Micros; followups: number }>;
  close(): Promise<void>;
}

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const initials: FakeServer['initials'] = new Map();
  let newInitials = 0;
  let unavailable = options.unavailableFor ?? 0;
  const app = express();

  app.use((request, response, next) => {
    if (request.method !== 'POST' || unavailable <= 0) return next();
    unavailable--;
    response.status(503).set('Retry-After', '0').json({ error: 'busy' });
  });

  app.post('/initial', (request, response) => {
    const { uuid, symbol } = request.query;
    if (typeof uuid !== 'string' || typeof symbol !== 'string' || !isLetter(symbol)) {
      response.status(400).json({ error: 'uuid and symbol a-z, please' });
      return;
    }
    const known = initials.get(uuid);
    if (known) {
      response.type('text/plain').send(known.guess ? 'True' : 'False');
      return;
    }
    const guess = Math.random() < 0.5;
    newInitials++;
    if (newInitials % (options.forgetEveryNthInitial ?? Infinity) !== 0) {
      initials.set(uuid, { symbol, guess, ts: systemClock(), followups: 0 });
    }
    response.type('text/plain').send(guess ? 'True' : 'False');
  });

  app.post('/followup', (request, response) => {
    const initial = initials.get(String(request.query.uuid));
    if (!initial) {
      response.status(404).json({ error: 'unknown uuid' });
      return;
    }
    initial.followups++;
    response.type('text/plain').send('hooray');
  });

  const aggregate = (symbol: Letter, from: Micros, to: Micros) => {
    const mine = [...initials.values()].filter((i) => i.symbol === symbol && i.ts >= from && i.ts < to);
    const times = mine.map((i) => i.ts);
    return {
      count: mine.length,
      symbol,
      earliest: mine.length > 0 ? formatMicros(Math.min(...times)) : null,
      latest: mine.length > 0 ? formatMicros(Math.max(...times)) : null,
      followups: mine.reduce((sum, i) => sum + i.followups, 0),
    };
  };

  app.get('/dashboard/symbol/:symbol', (request, response) => {
    const { symbol } = request.params;
    if (!isLetter(symbol)) {
      response.status(400).json({ error: 'symbol a-z, please' });
      return;
    }
    response.json(aggregate(symbol, -Infinity, Infinity));
  });

  app.get('/dashboard/range/:lower/:upper', (request, response) => {
    const [lower, upper] = [parseTimestamp(request.params.lower), parseTimestamp(request.params.upper)];
    if (lower === undefined || upper === undefined) {
      response.status(400).json({ error: 'bad range' });
      return;
    }
    response.json(LETTERS.map((letter) => aggregate(letter, lower, upper)));
  });

  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    initials,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
