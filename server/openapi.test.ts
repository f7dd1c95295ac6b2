// The OpenAPI document is a valid OpenAPI 3.1 document, and the server serves it. (That every answer
// matches it is checked by the HTTP contract suite, on every interface: interfaces/testing/openapi-answers.ts.)

import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { NullInterface } from '../interfaces/null.ts';
import { createApp } from './app.ts';

const FILE = new URL('./openapi.json', import.meta.url);

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(await readFile(FILE, 'utf8')));
    expect(result.errors ?? [], 'what the validator found').toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is served as GET /openapi.json', async () => {
    const server = createApp({ data: new NullInterface() }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi.json`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual(JSON.parse(await readFile(FILE, 'utf8')));
    } finally {
      server.close();
    }
  });
});
