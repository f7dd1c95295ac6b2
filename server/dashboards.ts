// GET /dashboard/symbol/:symbol and GET /dashboard/range/:lower/:upper: aggregates as JSON.

import { Router } from 'express';
import type { DataInterface, SymbolAggregate } from '../interfaces/contract.ts';
import { formatMicros } from '../interfaces/time.ts';
import { methodNotAllowed } from './errors.ts';
import { readRange, readSymbol } from './params.ts';

/** The API's JSON shape: keys in this order, timestamps as `YYYY-MM-DD HH:MM:SS.ffffff` UTC. */
export function presentAggregate(aggregate: SymbolAggregate) {
  return {
    count: aggregate.count,
    symbol: aggregate.symbol,
    earliest: aggregate.earliest === null ? null : formatMicros(aggregate.earliest),
    latest: aggregate.latest === null ? null : formatMicros(aggregate.latest),
    followups: aggregate.followups,
  };
}

export function dashboardRoutes(data: DataInterface): Router {
  const router = Router();
  // Every answer must include every acknowledged write: nothing may cache it.
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  router.get('/symbol/:symbol', async (req, res) => {
    const symbol = readSymbol(req.params.symbol as string);
    res.json(presentAggregate(await data.symbolAggregate(symbol)));
  });

  router.get('/range/:lower/:upper', async (req, res) => {
    const { lower, upper } = readRange(req.params.lower as string, req.params.upper as string);
    res.json((await data.rangeAggregates(lower, upper)).map(presentAggregate));
  });

  router.all(['/symbol/:symbol', '/range/:lower/:upper'], methodNotAllowed('GET, HEAD'));
  return router;
}
