// Who may read /events and /metrics: with ADMIN_TOKEN, its bearers only; without it, loopback clients.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NullInterface } from '../interfaces/null.ts';
import { isLoopback } from './admin.ts';
import { createApp } from './app.ts';

const TOKEN = 'a-token-of-at-least-16-characters';

describe('with ADMIN_TOKEN set', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createApp({ data: new NullInterface(), adminToken: TOKEN }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it.each(['/events', '/events?format=csv', '/metrics'])('%s needs the bearer token, even from loopback', async (path) => {
    for (const authorization of [undefined, 'Bearer wrong-token-of-some-length', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer`, TOKEN]) {
      const response = await fetch(url + path, { headers: authorization === undefined ? {} : { authorization } });
      expect(response.status, `Authorization: ${authorization}`).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect((await response.json()).error).toMatch(/needs "Authorization: Bearer <token>" with the server's ADMIN_TOKEN/);
    }
    for (const scheme of ['Bearer', 'bearer']) {
      const response = await fetch(url + path, { headers: { authorization: `${scheme} ${TOKEN}` } });
      expect(response.status).toBe(200);
    }
  });

  it('leaves the API and the dashboards open', async () => {
    expect((await fetch(`${url}/dashboard/symbol/a`)).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

describe('without ADMIN_TOKEN', () => {
  it('tells loopback addresses from the others (the HTTP contract reads /events and /metrics from loopback)', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address), address).toBe(true);
    for (const address of ['10.0.0.1', '192.168.50.4', '::ffff:10.0.0.1', '::2', 'fe80::1', '1.127.0.0', undefined]) {
      expect(isLoopback(address), String(address)).toBe(false);
    }
  });
});
