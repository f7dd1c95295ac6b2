// `npm run export -- [--from DATE] [--to DATE] [--format csv]`: the raw events of the configured
// interface on standard output, oldest first, as GET /events sends them (NDJSON unless CSV is asked
// for); the range is half-open, in the API's date formats.

import { parseArgs } from 'node:util';
import { openInterface } from '../interfaces/index.ts';
import { parseTimestamp, timestampError, type Micros } from '../interfaces/time.ts';
import { ConfigError, interfaceOptionsFrom } from './config.ts';
import { EVENT_FORMATS, isEventFormat, writeEvents } from './raw-events.ts';

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
      format: { type: 'string', default: 'ndjson' },
      'data-interface': { type: 'string' },
      'sqlite-path': { type: 'string' },
      'mariadb-url': { type: 'string' },
      'redis-url': { type: 'string' },
    },
  });
  const range = { from: bound('from', values.from), to: bound('to', values.to) };
  const format = values.format;
  if (!isEventFormat(format)) throw new ConfigError(`--format "${format}" is unknown: use ${EVENT_FORMATS.join(' or ')}`);
  const data = await openInterface(interfaceOptionsFrom(process.env, values));
  try {
    await writeEvents(data.exportEvents(range), process.stdout, format);
  } finally {
    await data.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
