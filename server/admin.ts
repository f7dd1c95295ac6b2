// Who may read the operators' routes (`/events`, `/metrics`): with an admin token, whoever sends it
// as `Authorization: Bearer …`; without one, clients on this machine only (loopback).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './errors.ts';

export function adminAccess(token: string | undefined): RequestHandler {
  if (token === undefined) {
    return (req, _res, next) => {
      if (isLoopback(req.socket.remoteAddress)) return next();
      throw new HttpError(403, `${req.path} answers clients on the server's own machine only: set ADMIN_TOKEN on the server to reach it from elsewhere with "Authorization: Bearer <token>"`);
    };
  }
  // Digests of equal length make the comparison's time independent of what the client sent.
  const expected = digest(token);
  return (req, res, next) => {
    const [scheme, given] = (req.get('authorization') ?? '').split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer' && given !== undefined && timingSafeEqual(digest(given), expected)) return next();
    res.set('WWW-Authenticate', 'Bearer realm="vowel-analytics admin"');
    throw new HttpError(401, `${req.path} needs "Authorization: Bearer <token>" with the server's ADMIN_TOKEN`);
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** 127.0.0.0/8 and ::1, as IPv4 or IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
