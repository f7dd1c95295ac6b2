// A command-line tool whose reader goes away (`npm run -s export | head -1`) stops quietly, as Unix
// tools do: standard output's EPIPE is not a crash with a stack trace but a reason to stop.

/** Calls `stop` (once) when standard output's reader has gone; any other error of the stream still throws. */
export function onClosedPipe(stop: () => void): void {
  let stopped = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (!stopped) stop();
    stopped = true;
  });
}
