// A seeded, deterministic stream of requests as clients make them, for tests and benchmarks: initials
// over the letters (skewed like English text), followups for some uuids (several for a few, later),
// bursts of events in one microsecond, and optionally noise that an interface must refuse. Each request
// carries the answer it must get, so one stream can be fed to any interface through recordEvent().

import type {
  DataInterface, FollowupResult, InitialEvent, InitialResult, Letter, RawEvent,
} from '../contract.ts';
import { LETTERS } from '../contract.ts';
import type { Micros } from '../time.ts';

/** A small seeded PRNG (mulberry32): reproducible test data, nothing secret. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits, so that spans of years still reach every microsecond. */
  next(): number {
    return (this.uint32() * 2 ** 21 + (this.uint32() >>> 11)) / 2 ** 53;
  }

  /** Uniform integer in [0, bound). */
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A canonical version-4 uuid made of seeded bits. */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16));
    hex[12] = '4';
    hex[16] = (8 + this.int(4)).toString(16); // the RFC 4122 variant: 10xx
    const digits = hex.join('');
    return [digits.slice(0, 8), digits.slice(8, 12), digits.slice(12, 16), digits.slice(16, 20), digits.slice(20)].join('-');
  }

  private uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
}

export interface StreamOptions {
  seed: number;
  /** Accepted initials, one uuid each. */
  initials: number;
  /** The initials fall in [start, start + spanMicros); followups and noise may come later. */
  start: Micros;
  spanMicros: number;
  /** Share of uuids that get followups (default 0.15). */
  followupShare?: number;
  /** Letters that never appear, to check empty letters among busy ones. */
  absentLetters?: readonly Letter[];
  /** Requests to refuse, as a share of the initials (default 0: every request is accepted). */
  noiseShare?: number;
}

export interface StreamRequest {
  event: RawEvent;
  /** The answer the interface must give; anything but 'recorded' is noise that stores nothing. */
  expected: InitialResult | FollowupResult;
}

/** Percent of letters in English text, a to z. */
const ENGLISH_FREQUENCIES = [
  8.2, 1.5, 2.8, 4.3, 12.7, 2.2, 2.0, 6.1, 7.0, 0.15, 0.77, 4.0, 2.4,
  6.7, 7.5, 1.9, 0.095, 6.0, 6.3, 9.1, 2.8, 0.98, 2.4, 0.15, 2.0, 0.074,
];
const VOWELS: ReadonlySet<Letter> = new Set(['a', 'e', 'i', 'o', 'u']);
/** Chance that an event shares the microsecond of the one before it (chains make longer bursts). */
const BURST_CHANCE = 0.1;

/** Requests in timestamp order; an event's followups and repeats come after it even in the same microsecond. */
export function generateEvents(options: StreamOptions): StreamRequest[] {
  const random = new Random(options.seed);
  const pickLetter = letterPicker(random, options.absentLetters ?? []);
  const meanDelay = Math.max(1, options.spanMicros / 100);
  const later = (ts: Micros) => ts + (random.chance(0.05) ? 0 : 1 + Math.floor(-Math.log(1 - random.next()) * meanDelay));

  const requests: StreamRequest[] = [];
  const initials: InitialEvent[] = [];
  for (const ts of initialTimes(random, options)) {
    const symbol = pickLetter();
    const initial: InitialEvent = { type: 'initial', uuid: random.uuid(), symbol, guess: guessFor(symbol, random), ts };
    initials.push(initial);
    requests.push({ event: initial, expected: { outcome: 'recorded' } });
    if (!random.chance(options.followupShare ?? 0.15)) continue;
    let followupTs = initial.ts;
    for (let count = random.chance(0.3) ? 2 + random.int(3) : 1; count > 0; count--) {
      followupTs = later(followupTs);
      requests.push({ event: { type: 'followup', uuid: initial.uuid, ts: followupTs }, expected: { outcome: 'recorded' } });
    }
  }

  const noise = initials.length === 0 ? 0 : Math.round(initials.length * (options.noiseShare ?? 0));
  for (let made = 0; made < noise; made++) {
    const first = random.pick(initials);
    const ts = later(first.ts);
    const kind = random.int(3);
    if (kind === 0) {
      const repeat: InitialEvent = { ...first, guess: random.chance(0.5), ts };
      requests.push({ event: repeat, expected: { outcome: 'repeat', guess: first.guess } });
    } else if (kind === 1) {
      const other = LETTERS[(LETTERS.indexOf(first.symbol) + 1 + random.int(25)) % 26]!;
      requests.push({ event: { ...first, symbol: other, ts }, expected: { outcome: 'conflict', symbol: first.symbol } });
    } else {
      requests.push({ event: { type: 'followup', uuid: random.uuid(), ts }, expected: { outcome: 'unknown-uuid' } });
    }
  }

  // Stable: within one microsecond, events keep the order they were made in (an initial before its followups).
  return requests.sort((a, b) => a.event.ts - b.event.ts);
}

/** Feeds one event to an interface through the record call of its type. */
export function recordEvent(target: DataInterface, event: RawEvent): Promise<InitialResult | FollowupResult> {
  return event.type === 'initial'
    ? target.recordInitial({ uuid: event.uuid, symbol: event.symbol, guess: event.guess, ts: event.ts })
    : target.recordFollowup({ uuid: event.uuid, ts: event.ts });
}

function initialTimes(random: Random, { initials, start, spanMicros }: StreamOptions): Micros[] {
  const times = Array.from({ length: initials }, () => start + random.int(spanMicros)).sort((a, b) => a - b);
  for (let i = 1; i < times.length; i++) {
    if (random.chance(BURST_CHANCE)) times[i] = times[i - 1]!;
  }
  return times;
}

function letterPicker(random: Random, absent: readonly Letter[]): () => Letter {
  const weights = LETTERS.map((letter, i) => (absent.includes(letter) ? 0 : ENGLISH_FREQUENCIES[i]!));
  let total = 0;
  const cumulative = weights.map((weight) => (total += weight));
  const lastPresent = weights.findLastIndex((weight) => weight > 0);
  if (lastPresent === -1) throw new Error('generateEvents: every letter is absent');
  return () => {
    const draw = random.next() * total;
    const index = cumulative.findIndex((upTo) => draw < upTo);
    return LETTERS[index === -1 ? lastPresent : index]!; // -1: rounding put the draw on the total itself
  };
}

/** The server's model: the truth (a coin for y), flipped one time in ten. */
function guessFor(symbol: Letter, random: Random): boolean {
  const truth = symbol === 'y' ? random.chance(0.5) : VOWELS.has(symbol);
  return random.chance(0.1) ? !truth : truth;
}
