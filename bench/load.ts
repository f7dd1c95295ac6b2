// The loader: fills an interface with N events through its bulk path (`loadEvents`: one transaction
// per chunk, the same rows and aggregates as requests would give), generated here a chunk at a time
// so that 10M events never sit in memory at once.

import { isVowel, shouldFollowUp } from '../client/judge.ts';
import { englishLetters } from '../client/letters.ts';
import { requestRandom, uuid4 } from '../client/random.ts';
import type { DataInterface, RawEvent } from '../interfaces/contract.ts';
import type { InterfaceOptions } from '../interfaces/index.ts';
import type { Micros } from '../interfaces/time.ts';
import { createGuesser } from '../server/model.ts';

export const SPAN_MICROS = 30 * 24 * 3600 * 1_000_000;
/** Events per loadEvents call: one transaction (sqlite) or one batch (mariadb-redis) each. */
const CHUNK_EVENTS = 10_000;
/**
 * mariadb-redis loads through two writers (two partitions, as two server processes would), so that
 * one's JavaScript overlaps the other's database round trips: about 1.2× faster on 2 cores.
 * A uuid's events all go to one writer, so each initial still comes before its followups.
 */
const MARIADB_REDIS_WRITERS = 2;
/** A followup comes at most this many event slots after its initial. */
const MAX_FOLLOWUP_DELAY_SLOTS = 64;

/**
 * Exactly `n` events in time order over the 30 days before `end`, as the original client would have
 * sent them: English letter frequencies, the server's noisy guess, and a followup when the client was
 * right to be pleased. Slot i has its own time; it holds the next followup that is due, or else a new
 * initial, so every followup comes after its initial and the count is exact.
 */
export function* eventChunks(n: number, end: Micros, seed: string, chunkSize: number): Generator<RawEvent[]> {
  const random = requestRandom(seed, 0);
  const draw = () => random.float();
  const guess = createGuesser(draw);
  const slotMicros = SPAN_MICROS / n;
  const start = end - SPAN_MICROS;
  // due[slot % due.length]: uuids whose followup falls in that slot; ready: due and not yet sent.
  const due: string[][] = Array.from({ length: MAX_FOLLOWUP_DELAY_SLOTS + 1 }, () => []);
  const ready: string[] = [];
  let chunk: RawEvent[] = [];
  for (let slot = 0; slot < n; slot++) {
    const ts = start + Math.floor((slot + draw()) * slotMicros);
    const arriving = due[slot % due.length]!;
    ready.push(...arriving);
    arriving.length = 0;
    const followup = ready.shift();
    if (followup !== undefined) {
      chunk.push({ type: 'followup', uuid: followup, ts });
    } else {
      const symbol = englishLetters(slot, draw);
      const uuid = uuid4(random);
      const answer = guess(symbol);
      chunk.push({ type: 'initial', uuid, symbol, guess: answer, ts });
      if (shouldFollowUp(isVowel(symbol, draw()), answer, draw())) {
        due[(slot + 1 + Math.floor(draw() * MAX_FOLLOWUP_DELAY_SLOTS)) % due.length]!.push(uuid);
      }
    }
    if (chunk.length === chunkSize) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

type BulkTarget = Pick<DataInterface, 'loadEvents' | 'close'>;

/** The interface's bulk path, opened directly (no server). */
async function openBulk(options: InterfaceOptions): Promise<BulkTarget> {
  switch (options.name) {
    case 'null':
      throw new Error('the null interface keeps nothing to load');
    case 'sqlite': {
      const { SqliteInterface } = await import('../interfaces/sqlite.ts');
      return SqliteInterface.open(options.sqlitePath);
    }
    case 'mariadb-redis': {
      const { MariadbRedisInterface } = await import('../interfaces/mariadb-redis/index.ts');
      // Batches of 10k events are no requests: give their statements longer than a request's deadline.
      return MariadbRedisInterface.open({ mariadbUrl: options.mariadbUrl, redisUrl: options.redisUrl, deadlineMs: 30_000 });
    }
    case 'elasticsearch': {
      const { ElasticsearchInterface } = await import('../interfaces/elasticsearch/index.ts');
      return ElasticsearchInterface.open({ url: options.elasticsearchUrl, deadlineMs: 30_000 });
    }
  }
}

/** Loads `n` events ending at `end`; returns the seconds it took (0 for `null`). */
export async function loadStore(
  options: InterfaceOptions,
  n: number,
  end: Micros,
  progress: (loaded: number, seconds: number) => void,
): Promise<number> {
  if (options.name === 'null') return 0;
  const writers = options.name === 'mariadb-redis' ? MARIADB_REDIS_WRITERS : 1;
  const targets = await Promise.all(Array.from({ length: writers }, () => openBulk(options)));
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const reportEvery = Math.max(CHUNK_EVENTS * writers, 10 ** Math.floor(Math.log10(n)) / 10);
  let loaded = 0;
  let writing: Promise<unknown> = Promise.resolve();
  try {
    // The next chunk is generated while the database writes the previous one.
    for (const chunk of eventChunks(n, end, `bench-${n}`, CHUNK_EVENTS * writers)) {
      const parts: RawEvent[][] = targets.map(() => []);
      for (const event of chunk) parts[parseInt(event.uuid.slice(-1), 16) % writers]!.push(event);
      await writing;
      writing = Promise.all(targets.map((target, i) => target.loadEvents(parts[i]!)));
      loaded += chunk.length;
      if (loaded % reportEvery < chunk.length && loaded < n) progress(loaded, seconds());
    }
    await writing;
  } finally {
    await writing.catch(() => undefined);
    await Promise.all(targets.map((target) => target.close()));
  }
  return seconds();
}
