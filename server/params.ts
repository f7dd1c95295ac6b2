// Validation of the API's parameters. Each reader returns the clean value or throws a 400 that
// says what is accepted.

import type { Request } from 'express';
import { isLetter, type Letter } from '../interfaces/contract.ts';
import { parseTimestamp, timestampError, type Micros } from '../interfaces/time.ts';
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

export function readTimestamp(name: string, text: string): Micros {
  const ts = parseTimestamp(text);
  if (ts === undefined) throw new HttpError(400, timestampError(`${name} "${clip(text)}"`, text));
  return ts;
}

/** Echo at most a few dozen characters of bad input back. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
