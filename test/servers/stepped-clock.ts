// A wall clock the test steps, for a child process: libfaketime (Debian's `faketime`) preloaded into
// it reads its offset from a file at every call. Only the wall clock moves (CLOCK_REALTIME, what
// Date.now() reads); the monotonic clock runs on as it does when NTP or an operator steps a real
// machine's clock.

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export const FAKETIME_MISSING_MESSAGE = 'libfaketime not found: run `bash provision/install.sh` (installs faketime)';
const LIBRARIES = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/faketime/libfaketimeMT.so.1'];

export class SteppedClock {
  readonly #file: string;
  readonly #library: string;

  /** A clock whose offset is kept in `dir` (a test's temporary directory); it starts right. */
  static async create(dir: string): Promise<SteppedClock> {
    const library = LIBRARIES.find((file) => fs.existsSync(file));
    if (!library) throw new Error(`${FAKETIME_MISSING_MESSAGE} [looked for ${LIBRARIES.join(', ')}]`);
    const clock = new SteppedClock(path.join(dir, 'faketime'), library);
    await clock.set(0);
    return clock;
  }

  private constructor(file: string, library: string) {
    this.#file = file;
    this.#library = library;
  }

  /** The environment that puts a child process on this clock. */
  env(): Record<string, string> {
    return { LD_PRELOAD: this.#library, FAKETIME_TIMESTAMP_FILE: this.#file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  }

  /** Steps the wall clock to `offsetSeconds` from the real time (negative: back). */
  async set(offsetSeconds: number): Promise<void> {
    // Written whole, then renamed: a reader never sees half a line.
    await fsp.writeFile(`${this.#file}.next`, `${offsetSeconds >= 0 ? '+' : ''}${offsetSeconds}\n`);
    await fsp.rename(`${this.#file}.next`, this.#file);
  }
}
