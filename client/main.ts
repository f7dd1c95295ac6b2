// `npm run client`: the load client as a process. Ctrl-C stops it cleanly; a second one at once.

import { onClosedPipe } from '../server/closed-pipe.ts';
import { runCli } from './cli.ts';

const interrupt = new AbortController();
// A reader gone (`| head`) stops the load as Ctrl-C does: what is in flight is finished, the ledger closed.
onClosedPipe(() => interrupt.abort());
process.once('SIGINT', () => {
  process.stderr.write('\nstopping: waiting for the requests in flight (Ctrl-C again quits at once)\n');
  interrupt.abort();
  process.once('SIGINT', () => process.exit(130));
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  interrupt: interrupt.signal,
});
