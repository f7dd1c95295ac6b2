// GET /dashboard/symbol/:symbol and GET /dashboard/range/:lower/:upper: aggregates as JSON.

import { Router } from 'express';
import type { DataInterface, SymbolAggregate } from '../interfaces/contract.ts';
import type { SeriesPoint, SeriesQuery } from '../interfaces/series.ts';
import { TimeZone, type OffsetStretch } from '../interfaces/time-zone.ts';
import { formatMicros, formatWithOffset } from '../interfaces/time.ts';
import { methodNotAllowed } from './errors.ts';
import { readRange, readSeriesQuery, readSymbol } from './params.ts';

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

/** The API's JSON shape of a series: `tz` as given, each start in it with its offset at that instant. */
export function presentSeries(query: SeriesQuery, points: SeriesPoint[]) {
  // The zone's offsets along the range, walked with the points (in order).
  const stretches = TimeZone.of(query.tz).stretches(query.lower, query.upper);
  let at = 0;
  const offsetAt = (ts: number) => {
    while ((stretches[at] as OffsetStretch).to <= ts && at < stretches.length - 1) at++;
    return (stretches[at] as OffsetStretch).offsetSeconds;
  };
  return {
    interval: query.interval,
    tz: query.tz,
    symbol: query.symbol,
    points: points.map(({ start, count, followups }) => ({ start: formatWithOffset(start, offsetAt(start)), count, followups })),
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

  router.get('/series/:lower/:upper', async (req, res) => {
    const query = readSeriesQuery(req);
    res.json(presentSeries(query, await data.series(query)));
  });

  router.all(['/symbol/:symbol', '/range/:lower/:upper', '/series/:lower/:upper'], methodNotAllowed('GET, HEAD'));
  return router;
}
