// `npm run client`: the load client as a process. Ctrl-C stops it cleanly; a second one at once.

import { runCli } from './cli.ts';

const interrupt = new AbortController();
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
