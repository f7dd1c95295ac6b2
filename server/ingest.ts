// POST /initial and POST /followup: every accepted request is one raw event.

import express, { Router, type RequestHandler } from 'express';
import type { DataInterface, Letter } from '../interfaces/contract.ts';
import type { Micros } from '../interfaces/time.ts';
import { HttpError, methodNotAllowed } from './errors.ts';
import { postParam, readSymbol, readUuid } from './params.ts';

export interface IngestOptions {
  data: DataInterface;
  clock: () => Micros;
  guess: (symbol: Letter) => boolean;
}

const BODY_LIMIT = '2kb';
const BODY_TYPES = ['application/x-www-form-urlencoded', 'application/json'];

const parseUrlencoded = express.urlencoded({ extended: false, limit: BODY_LIMIT });
const parseJson = express.json({ limit: BODY_LIMIT });

// The parameters fit in the query string (as the original client sends them): a request without
// a body skips the parsers. A body must be a type we parse.
const parseBody: RequestHandler = (req, res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody) return next();
  if (!req.is(BODY_TYPES)) {
    throw new HttpError(
      415,
      `unsupported body type "${req.headers['content-type'] ?? 'none'}": send the parameters in the query string ` +
        `or in a body of type ${BODY_TYPES.join(' or ')}`,
    );
  }
  parseUrlencoded(req, res, (error?: unknown) => (error ? next(error) : parseJson(req, res, next)));
};

export function ingestRoutes({ data, clock, guess }: IngestOptions): Router {
  const router = Router();

  router.post('/initial', parseBody, async (req, res) => {
    const uuid = readUuid(postParam(req, 'uuid'));
    const symbol = readSymbol(postParam(req, 'symbol'));
    const answer = guess(symbol);
    const result = await data.recordInitial({ uuid, symbol, guess: answer, ts: clock() });
    if (result.outcome === 'conflict') {
      throw new HttpError(409, `uuid ${uuid} was already recorded with symbol "${result.symbol}", not "${symbol}": use a fresh uuid`);
    }
    // A retry of a recorded initial gets the answer the first request got.
    const sent = result.outcome === 'repeat' ? result.guess : answer;
    res.type('text/plain').send(sent ? 'True' : 'False');
  });

  router.post('/followup', parseBody, async (req, res) => {
    const uuid = readUuid(postParam(req, 'uuid'));
    const result = await data.recordFollowup({ uuid, ts: clock() });
    if (result.outcome === 'unknown-uuid') {
      throw new HttpError(404, `uuid ${uuid} has no initial: POST /initial with it first`);
    }
    res.type('text/plain').send('hooray');
  });

  router.all(['/initial', '/followup'], methodNotAllowed('POST'));
  return router;
}
