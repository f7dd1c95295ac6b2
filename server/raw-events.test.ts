import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RawEvent } from '../interfaces/contract.ts';
import { csvField, writeEvents } from './raw-events.ts';

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
  ])('quotes %j as RFC 4180 asks', (text, field) => {
    expect(csvField(text)).toBe(field);
  });
});

describe('writeEvents', () => {
  async function* many(n: number, read: { count: number; stopped: boolean }): AsyncGenerator<RawEvent> {
    try {
      for (let i = 0; i < n; i++) {
        read.count++;
        yield { type: 'followup', uuid: '0b7e3e2a-6a53-4c39-9f5e-3d1c2a4b5c6d', ts: i };
      }
    } finally {
      read.stopped = true;
    }
  }

  it('waits for a reader that is behind, holding one chunk at a time', async () => {
    const out = new PassThrough({ highWaterMark: 16 * 1024 });
    const read = { count: 0, stopped: false };
    const writing = writeEvents(many(100_000, read), out, 'ndjson');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Nobody reads: the writer stopped after the first chunk that filled the stream's buffer.
    expect(read.count).toBeLessThan(2000);
    let bytes = 0;
    out.on('data', (chunk: Buffer) => (bytes += chunk.length));
    expect(await writing).toBe(true);
    expect(read.count).toBe(100_000);
    expect(bytes).toBeGreaterThan(100_000 * 70);
  });

  it('stops reading the events when the reader goes away, and says so', async () => {
    const out = new PassThrough({ highWaterMark: 16 * 1024 });
    const read = { count: 0, stopped: false };
    const writing = writeEvents(many(1_000_000, read), out, 'csv');
    await new Promise((resolve) => setTimeout(resolve, 50));
    out.destroy();
    expect(await writing).toBe(false);
    expect(read.stopped).toBe(true);
    expect(read.count).toBeLessThan(2000);
  });
});
