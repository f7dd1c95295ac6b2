// `npm run export -- [--from DATE] [--to DATE]`: the raw events of the configured interface as
// NDJSON on standard output, oldest first; the range is half-open, in the API's date formats.

import { parseArgs } from 'node:util';
import type { RawEvent } from '../interfaces/contract.ts';
import { openInterface } from '../interfaces/index.ts';
import { formatMicros, parseTimestamp, timestampError, type Micros } from '../interfaces/time.ts';
import { ConfigError, interfaceOptionsFrom } from './config.ts';

/** One NDJSON line, keys in the documented order. */
export function exportLine(event: RawEvent): string {
  const ts = formatMicros(event.ts);
  const record =
    event.type === 'initial'
      ? { type: event.type, uuid: event.uuid, symbol: event.symbol, guess: event.guess, ts }
      : { type: event.type, uuid: event.uuid, ts };
  return JSON.stringify(record);
}

function bound(name: string, text: string | undefined): Micros | undefined {
  if (text === undefined) return undefined;
  const ts = parseTimestamp(text);
  if (ts === undefined) throw new ConfigError(timestampError(`--${name} "${text}"`, text));
  return ts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      'data-interface': { type: 'string' },
      'sqlite-path': { type: 'string' },
      'mariadb-url': { type: 'string' },
      'redis-url': { type: 'string' },
    },
  });
  const range = { from: bound('from', values.from), to: bound('to', values.to) };
  const data = await openInterface(interfaceOptionsFrom(process.env, values));
  try {
    // Lines go out in chunks, and wait whenever standard output is behind (a slow pipe).
    let chunk = '';
    for await (const event of data.exportEvents(range)) {
      chunk += exportLine(event) + '\n';
      if (chunk.length >= 64 * 1024) {
        if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
        chunk = '';
      }
    }
    process.stdout.write(chunk);
  } finally {
    await data.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
