// `npm run export -- [--from DATE] [--to DATE] [--format csv]`: the raw events of the configured
// interface on standard output, oldest first, as GET /events sends them (NDJSON unless CSV is asked
// for); the range is half-open, in the API's date formats. A reader that goes away (`| head`) ends
// the export quietly, and with it the interface's query: exit 0.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { openInterface } from '../interfaces/index.ts';
import { parseTimestamp, timestampError, type Micros } from '../interfaces/time.ts';
import { onClosedPipe } from './closed-pipe.ts';
import { ConfigError, interfaceOptionsFrom } from './config.ts';
import { EVENT_FORMATS, isEventFormat, writeEvents } from './raw-events.ts';

const USAGE = `Usage: npm run -s export -- [options]

The raw events, oldest first, on standard output (NDJSON, or CSV with --format csv), from the
interface the server is configured with (DATA_INTERFACE, SQLITE_PATH, MARIADB_URL, REDIS_URL).

  --from DATE            the first instant included (default: the first event)
  --to DATE              the first instant excluded (default: after the last event)
  --format ndjson|csv    default ndjson
  --data-interface, --sqlite-path, --mariadb-url, --redis-url   as npm start's
  -h, --help             show this help

DATE: YYYY-MM-DD, optionally followed by " HH:MM", ":SS" and ".ffffff" ("T" may replace the space),
then optionally "Z" or, after a time, an offset "+HH:MM" or "-HH:MM"; without either, UTC.
Exit status: 0 done (or the reader went away), 1 the backend failed, 2 bad options.
`;

/** parseArgs, its errors (an unknown option, a missing value) as ConfigErrors: exit 2 with the message. */
function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function bound(name: string, text: string | undefined): Micros | undefined {
  if (text === undefined) return undefined;
  const ts = parseTimestamp(text);
  if (ts === undefined) throw new ConfigError(timestampError(`--${name} "${text}"`, text));
  return ts;
}

async function main(): Promise<void> {
  const { values } = parseOptions({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string', default: 'ndjson' },
      'data-interface': { type: 'string' },
      'sqlite-path': { type: 'string' },
      'mariadb-url': { type: 'string' },
      'redis-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { help, ...flags } = values;
  if (help) {
    process.stdout.write(USAGE);
    return;
  }
  const range = { from: bound('from', flags.from), to: bound('to', flags.to) };
  const format = flags.format;
  if (!isEventFormat(format)) throw new ConfigError(`--format "${format}" is unknown: use ${EVENT_FORMATS.join(' or ')}`);
  const data = await openInterface(interfaceOptionsFrom(process.env, flags));
  // A closed pipe destroys stdout, which ends writeEvents and so the interface's query.
  onClosedPipe(() => undefined);
  try {
    await writeEvents(data.exportEvents(range), process.stdout, format);
  } finally {
    await data.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `${error.message}\nrun with --help for the options` : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
