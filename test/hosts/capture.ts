// What crosses the test network, captured (tcpdump, in this process's namespace, on every link of
// the bridge), and which event uuids a capture holds in clear text: as text (with or without dashes,
// either case: HTTP, SQL's X'…' literals) or as the 16 bytes MariaDB stores and Galera replicates.

import fs from 'node:fs/promises';
import path from 'node:path';
import { findBinary, spawnManaged, stopProcess, waitUntil, type ManagedProcess } from '../servers/process.ts';

const TCPDUMP_MISSING = 'tcpdump not found: run `bash provision/install.sh` (installs tcpdump)';

export class Capture {
  readonly file: string;
  readonly #proc: ManagedProcess;

  private constructor(file: string, proc: ManagedProcess) {
    this.file = file;
    this.#proc = proc;
  }

  /** Starts capturing whole packets that match `filter` (pcap syntax) on every interface; resolves once tcpdump listens. */
  static async start(dir: string, name: string, filter: string): Promise<Capture> {
    const file = path.join(dir, `${name}.pcap`);
    const log = path.join(dir, `${name}.tcpdump.log`);
    // -Z root: Debian's tcpdump otherwise drops to its own user, who may not write here.
    const proc = spawnManaged(`tcpdump ${name}`, findBinary(['tcpdump'], TCPDUMP_MISSING), ['-i', 'any', '-n', '-U', '-s', '0', '-Z', 'root', '-w', file, filter], { cwd: dir, outputFile: log, marker: dir });
    await waitUntil(`tcpdump ${name} to listen`, proc, async () => (await fs.readFile(log, 'utf8').catch(() => '')).includes('listening on'), { timeoutMs: 10_000, intervalMs: 100 });
    return new Capture(file, proc);
  }

  /** Stops it; resolves with what it captured. */
  async stop(): Promise<Buffer> {
    await stopProcess(this.#proc, { signal: 'SIGINT' });
    return fs.readFile(this.file);
  }
}

/** The uuids of `uuids` that `data` holds in clear text, in any of the forms above. */
export function uuidsFoundIn(data: Buffer, uuids: Iterable<string>): Set<string> {
  const byText = new Map<string, string>();
  const byFirstWord = new Map<number, { uuid: string; raw: Buffer }[]>();
  for (const uuid of uuids) {
    const hex = uuid.replaceAll('-', '').toLowerCase();
    byText.set(uuid.toLowerCase(), uuid);
    byText.set(hex, uuid);
    const raw = Buffer.from(hex, 'hex');
    const word = raw.readUInt32BE(0);
    byFirstWord.set(word, [...(byFirstWord.get(word) ?? []), { uuid, raw }]);
  }
  const found = new Set<string>();
  // As text: every 32- and 36-character window of each run of hex digits and dashes.
  const text = data.toString('latin1').toLowerCase();
  for (const run of text.matchAll(/[0-9a-f-]{32,}/g)) {
    for (let i = 0; i + 32 <= run[0].length; i++) {
      for (const length of [32, 36]) {
        const uuid = byText.get(run[0].slice(i, i + length));
        if (uuid) found.add(uuid);
      }
    }
  }
  // As bytes.
  for (let i = 0; i + 16 <= data.length; i++) {
    const candidates = byFirstWord.get(data.readUInt32BE(i));
    if (!candidates) continue;
    for (const { uuid, raw } of candidates) if (data.subarray(i, i + 16).equals(raw)) found.add(uuid);
  }
  return found;
}
