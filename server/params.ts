// Validation of the API's parameters. Each reader returns the clean value or throws a 400 that
// says what is accepted.

import type { Request } from 'express';
import { isLetter, type Letter } from '../interfaces/contract.ts';
import { coarserFitting, isSeriesInterval, MAX_SERIES_POINTS, seriesStarts, SERIES_INTERVALS, type SeriesQuery } from '../interfaces/series.ts';
import { isTimeZone, TimeZone } from '../interfaces/time-zone.ts';
import { parseTimestamp, timestampError, type LocalReader, type Micros } from '../interfaces/time.ts';
import { HttpError } from './errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A POST parameter, from the query string (as the original client sends it) or the body.
 * Given in both places, the two must agree.
 */
export function postParam(req: Request, name: string): string {
  const fromQuery = single(req.query[name], name);
  const body: unknown = req.body;
  const fromBody = typeof body === 'object' && body !== null ? single((body as Record<string, unknown>)[name], name) : undefined;
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw new HttpError(400, `${name} is given twice with different values (query string and body): give it once`);
  }
  const value = fromQuery ?? fromBody;
  if (value === undefined) {
    throw new HttpError(400, `${name} is required, in the query string or a urlencoded or JSON body`);
  }
  return value;
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, `${name} must be given once, as a string`);
  return value;
}

/** A canonical UUID in any case, returned lower case. */
export function readUuid(text: string): string {
  if (!UUID.test(text)) {
    throw new HttpError(400, `uuid "${clip(text)}" is not a canonical UUID: 8-4-4-4-12 hexadecimal digits`);
  }
  return text.toLowerCase();
}

export function readSymbol(text: string): Letter {
  if (!isLetter(text)) throw new HttpError(400, `symbol "${clip(text)}" is not accepted: give exactly one letter a-z`);
  return text;
}

/** The two bounds of a range dashboard, half-open: lower <= ts < upper. */
export function readRange(lowerText: string, upperText: string): { lower: Micros; upper: Micros } {
  const lower = readTimestamp('lower', lowerText);
  const upper = readTimestamp('upper', upperText);
  if (lower > upper) throw new HttpError(400, `lower bound ${lowerText} is after upper bound ${upperText}`);
  return { lower, upper };
}

export function readTimestamp(name: string, text: string, readLocal?: LocalReader): Micros {
  const ts = parseTimestamp(text, readLocal);
  if (ts === undefined) throw new HttpError(400, timestampError(`${name} "${clip(text)}"`, text, readLocal));
  return ts;
}

/**
 * A series' query: bounds read in `tz` when they carry no offset, lower before upper, a known
 * interval, zone and letter, and at most MAX_SERIES_POINTS buckets (else the coarser interval that fits).
 */
export function readSeriesQuery(req: Request): SeriesQuery {
  const interval = single(req.query.interval, 'interval');
  if (interval === undefined || !isSeriesInterval(interval)) {
    throw new HttpError(400, `interval ${interval === undefined ? 'is required' : `"${clip(interval)}" is not accepted`}: use ${SERIES_INTERVALS.join(', ')}`);
  }
  // No zone name has a space: one is a + that a hand-typed query did not encode (Etc/GMT+5).
  const tz = (single(req.query.tz, 'tz') ?? 'UTC').replaceAll(' ', '+');
  if (!isTimeZone(tz)) throw new HttpError(400, `tz "${clip(tz)}" is not a known time zone: use an IANA zone name such as Europe/Berlin or Asia/Kathmandu (default UTC)`);
  const symbolText = single(req.query.symbol, 'symbol');
  const symbol = symbolText === undefined ? null : readSymbol(symbolText);
  const zone = TimeZone.of(tz);
  const readLocal = (wall: Micros) => zone.instantOf(wall);
  const [lowerText, upperText] = [req.params.lower as string, req.params.upper as string];
  const lower = readTimestamp('lower', lowerText, readLocal);
  const upper = readTimestamp('upper', upperText, readLocal);
  if (lower >= upper) throw new HttpError(400, `lower bound ${lowerText} is not before upper bound ${upperText} (in ${tz}): a series needs lower < upper`);
  const query = { lower, upper, interval, tz, symbol };
  if (seriesStarts(query) === undefined) {
    const coarser = coarserFitting(query);
    throw new HttpError(400, `a series from ${lowerText} to ${upperText} at ${interval} has more than ${MAX_SERIES_POINTS} points: ${coarser ? `use interval ${coarser}, or a shorter range` : 'use a shorter range'}`);
  }
  return query;
}

/** Echo at most a few dozen characters of bad input back. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
