// `npm run verify` and `npm run rebuild`: check, or rebuild, the aggregates in Redis against the raw
// events in MariaDB (MARIADB_URL, REDIS_URL, PARTITIONS, as the server). Progress on a terminal.
// `npm run migrate`: brings MariaDB's schema up to date.
//
//   verify   exit 0 when every aggregate equals what the raw events say, 1 with the differences
//   rebuild  recompute every partition's rollups from MariaDB (safe while servers run: their
//            applies wait for each partition, then go on top)
//   migrate  the raw events into the current schema (servers stopped); nothing to do on a current one
//
// verify only reads; none claims a writer partition.

import { onClosedPipe } from '../../server/closed-pipe.ts';
import { interfaceOptionsFrom } from '../../server/config.ts';
import { systemClock } from '../time.ts';
import { EventsDb } from './events-db.ts';
import { DEFAULT_PARTITIONS } from './partitions.ts';
import { partsInUse, Recovery } from './recovery.ts';
import { Rollups } from './rollups.ts';
import { verify } from './verify.ts';

/** Longer than a request's: these are operator commands, not requests. */
const DEADLINE_MS = 30_000;

const [command, ...rest] = process.argv.slice(2);

const USAGE = `Usage: npm run verify | npm run rebuild | npm run migrate

verify   recompute every aggregate from the raw events in MariaDB and compare it with Redis; prints
         each difference; exit 0 when there is none, 1 when there are (run it while writes are stopped)
rebuild  recompute every partition's aggregates in Redis from MariaDB (safe while servers run)
migrate  bring the raw events in MariaDB into the schema of this version, once, with the servers
         stopped, as a user that may ALTER the tables (followups get their initial's letter and
         time: minutes for millions of events)

Configured as the server is: MARIADB_URL, REDIS_URL, their TLS files, PARTITIONS. Progress on a terminal only.
Exit status 2: bad arguments, or MariaDB or Redis failed.
`;

function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
}

async function main(): Promise<number> {
  if (rest.some((arg) => arg === '--help' || arg === '-h') || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!['verify', 'rebuild', 'migrate'].includes(command ?? '') || rest.length > 0) {
    process.stderr.write(`${USAGE}\n${command === undefined ? 'no command' : `unknown arguments: ${[command, ...rest].join(' ')}`}\n`);
    return 2;
  }
  // A reader gone (`| head`): nothing left to tell.
  onClosedPipe(() => process.exit(0));
  const options = interfaceOptionsFrom(process.env);
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  const mariadbOptions = { deadlineMs: DEADLINE_MS, tls: options.tls?.mariadb };
  if (command === 'migrate') {
    await EventsDb.migrate(options.mariadbUrl, mariadbOptions);
    console.log(`the raw events in MariaDB are in the current schema (${seconds()} s)`);
    return 0;
  }
  const db = await EventsDb.open(options.mariadbUrl, mariadbOptions);
  const rollups = await Rollups.connect(options.redisUrl, { deadlineMs: DEADLINE_MS, tls: options.tls?.redis }).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  try {
    if (command === 'rebuild') {
      const recovery = new Recovery(db, rollups, systemClock, partitions);
      const parts = await partsInUse(db, partitions);
      for (const part of parts) {
        await recovery.rebuild(part, await rollups.mark(part), (p, events) => progress(`partition ${p + 1}/${parts.length}: ${events} events`));
      }
      progress('');
      console.log(`rebuilt the aggregates of ${parts.length} partitions from MariaDB in ${seconds()} s`);
      return 0;
    }
    const report = await verify(db, rollups, systemClock, partitions, progress);
    progress('');
    for (const difference of report.differences.slice(0, 50)) console.log(difference);
    if (report.differences.length > 50) console.log(`… and ${report.differences.length - 50} more`);
    const summary = `${report.events} events, ${report.hashes} aggregate hashes checked in ${seconds()} s`;
    if (report.differences.length === 0) console.log(`verified: ${summary}, no difference`);
    else console.log(`${report.differences.length} differences: ${summary}`);
    return report.differences.length === 0 ? 0 : 1;
  } finally {
    await rollups.close();
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(2);
  },
);
