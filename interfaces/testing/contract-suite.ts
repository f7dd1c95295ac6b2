// The contract every data interface keeps, as one vitest suite run unchanged against each of them (in the
// manner of @keyv/test-suite): `dataInterfaceContract('sqlite', () => SqliteInterface.open(file))`.
// It drives the interface directly with chosen timestamps. `open` must give a fresh, empty store: each
// test opens its own and closes it. Expectations are written out by hand or come from the Oracle.

import { describe, expect, it } from 'vitest';
import { emptyAggregate, isLetter, LETTERS } from '../contract.ts';
import type {
  DataInterface, ExportRange, FollowupResult, InitialResult, Letter, RawEvent, SymbolAggregate,
} from '../contract.ts';
import { formatMicros, parseTimestamp } from '../time.ts';
import type { Micros } from '../time.ts';
import { generateEvents, Random, recordEvent } from './event-stream.ts';
import { Oracle } from './oracle.ts';
import { edgeEvents, expectSeriesOf, seriesCases, streamSeries } from './series-contract.ts';

const SECOND = 1_000_000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;
const AGGREGATE_KEYS = ['count', 'symbol', 'earliest', 'latest', 'followups'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A whole second: a fraction of zero is where the original lost its digits. */
const WHOLE_SECOND = micros('2017-06-28 19:34:14');
const T0 = micros('2017-06-28 19:34:14.486693');

export function dataInterfaceContract(
  name: string,
  open: () => Promise<DataInterface>,
  options: { shapesOnly?: boolean } = {},
): void {
  /** A test on a fresh store of its own (no shared variable: a timed-out test cannot touch the next one's). */
  const test = (title: string, body: (fixture: Fixture) => Promise<void>, timeoutMs?: number) =>
    it(title, async () => {
      expect.hasAssertions();
      const store = await open();
      try {
        await body(fixtureFor(store));
      } finally {
        await store.close();
      }
    }, timeoutMs);

  describe(`data interface contract: ${name}`, () => {
    describe('shapes', () => {
      test('records a new uuid and its followup, and exports only well-formed raw events', async ({ initial, followup, exported }) => {
        expect(await initial(1, 'e', T0)).toEqual({ outcome: 'recorded' });
        expect(await followup(1, T0 + 1)).toEqual({ outcome: 'recorded' });
        for (const event of await exported()) expectWellFormedEvent(event);
      });

      test('answers a well-formed symbol aggregate for every letter, keys in the API order', async ({ store, initial }) => {
        await initial(1, 'e', T0);
        for (const letter of LETTERS) expectWellFormedAggregate(await store.symbolAggregate(letter), letter);
      });

      test('answers 26 well-formed range aggregates, a to z', async ({ store, initial }) => {
        await initial(1, 'e', T0);
        const aggregates = await store.rangeAggregates(T0 - DAY, T0 + DAY);
        expect(aggregates.map((aggregate) => aggregate.symbol)).toEqual(LETTERS);
        aggregates.forEach((aggregate, i) => expectWellFormedAggregate(aggregate, LETTERS[i]!));
      });

      test('answers every bucket of a series, cut at the local boundaries of its zone, empty ones with zeros', async ({ store }) => {
        const empty = new Oracle();
        for (const query of seriesCases(Date.now() * 1000)) {
          for (const symbol of [null, 'e'] as const) {
            const answer = await store.series({ ...query, symbol });
            expect(answer, `${query.tz} ${query.interval}`).toEqual(empty.series({ ...query, symbol }));
            for (const point of answer) expect(Object.keys(point)).toEqual(['start', 'count', 'followups']);
          }
        }
      });

      test('ping resolves', async ({ store }) => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('close resolves', async () => {
        const store = await open();
        await store.recordInitial({ uuid: uuidOf(1), symbol: 'e', guess: true, ts: T0 });
        await expect(store.close()).resolves.toBeUndefined();
      });
    });

    if (options.shapesOnly) return;

    describe('symbol dashboard', () => {
      test('counts the initials of a symbol, with their earliest and latest timestamps', async ({ store, initial }) => {
        await initial(1, 'e', T0 + 5);
        await initial(2, 'e', T0);
        await initial(3, 'e', T0 + 9);
        await initial(4, 'a', T0 + 7);
        expect(await store.symbolAggregate('e')).toEqual({ count: 3, symbol: 'e', earliest: T0, latest: T0 + 9, followups: 0 });
        expect(await store.symbolAggregate('a')).toEqual({ count: 1, symbol: 'a', earliest: T0 + 7, latest: T0 + 7, followups: 0 });
      });

      test('answers an empty letter with count 0, null earliest and latest, 0 followups', async ({ store, initial, followup }) => {
        expect(await store.symbolAggregate('z')).toEqual(emptyAggregate('z'));
        await initial(1, 'e', T0);
        await followup(1, T0 + 1);
        for (const letter of LETTERS.filter((letter) => letter !== 'e')) {
          expect(await store.symbolAggregate(letter)).toEqual(emptyAggregate(letter));
        }
      });

      test('keeps every microsecond, a whole second included', async ({ store, initial }) => {
        await initial(1, 'q', WHOLE_SECOND);
        await initial(2, 'w', WHOLE_SECOND - 1);
        await initial(3, 'w', WHOLE_SECOND + 1);
        await initial(4, 'w', WHOLE_SECOND);
        expect(await store.symbolAggregate('q')).toEqual({ count: 1, symbol: 'q', earliest: WHOLE_SECOND, latest: WHOLE_SECOND, followups: 0 });
        expect(await store.symbolAggregate('w')).toEqual({ count: 3, symbol: 'w', earliest: WHOLE_SECOND - 1, latest: WHOLE_SECOND + 1, followups: 0 });
      });

      test('counts every followup toward the symbol of its initial, not toward earliest or latest', async ({ store, initial, followup }) => {
        await initial(1, 'e', T0);
        await initial(2, 'e', T0 + 1);
        await initial(3, 'a', T0 + 2);
        await followup(1, T0 + 10);
        await followup(1, T0 + 11);
        await followup(1, T0 + 11);
        await followup(3, T0 + 12);
        expect(await store.symbolAggregate('e')).toEqual({ count: 2, symbol: 'e', earliest: T0, latest: T0 + 1, followups: 3 });
        expect(await store.symbolAggregate('a')).toEqual({ count: 1, symbol: 'a', earliest: T0 + 2, latest: T0 + 2, followups: 1 });
      });
    });

    describe('recording', () => {
      test('answers a repeated initial with the same symbol with the first guess, counting and storing nothing', async ({ store, initial, exported }) => {
        expect(await initial(1, 'e', T0, false)).toEqual({ outcome: 'recorded' });
        expect(await initial(1, 'e', T0 + 1, true)).toEqual({ outcome: 'repeat', guess: false });
        expect(await store.symbolAggregate('e')).toEqual({ count: 1, symbol: 'e', earliest: T0, latest: T0, followups: 0 });
        expect(await exported()).toStrictEqual([{ type: 'initial', uuid: uuidOf(1), symbol: 'e', guess: false, ts: T0 }]);
      });

      test('answers a repeated initial with another symbol with a conflict, counting and storing nothing', async ({ store, initial, exportedTimes }) => {
        await initial(1, 'e', T0);
        expect(await initial(1, 'a', T0 + 1)).toEqual({ outcome: 'conflict', symbol: 'e' });
        expect(await store.symbolAggregate('a')).toEqual(emptyAggregate('a'));
        expect(await store.symbolAggregate('e')).toEqual({ count: 1, symbol: 'e', earliest: T0, latest: T0, followups: 0 });
        expect(await exportedTimes()).toEqual([T0]);
      });

      test('refuses a followup of an unknown uuid and stores nothing, not even for a later initial', async ({ store, initial, followup, exportedTimes }) => {
        expect(await followup(1, T0)).toEqual({ outcome: 'unknown-uuid' });
        expect(await exportedTimes()).toEqual([]);
        await initial(1, 'e', T0 + 1);
        expect(await store.symbolAggregate('e')).toEqual({ count: 1, symbol: 'e', earliest: T0 + 1, latest: T0 + 1, followups: 0 });
        expect(await exportedTimes()).toEqual([T0 + 1]);
      });

      test('counts every event of one microsecond', async ({ store, initial, followup }) => {
        await initial(1, 'e', T0);
        await initial(2, 'e', T0);
        await initial(3, 'a', T0);
        await followup(1, T0);
        await followup(1, T0);
        const e = { count: 2, symbol: 'e', earliest: T0, latest: T0, followups: 2 } as const;
        const a = { count: 1, symbol: 'a', earliest: T0, latest: T0, followups: 0 } as const;
        expect(await store.symbolAggregate('e')).toEqual(e);
        expect(await store.rangeAggregates(T0, T0 + 1)).toEqual(letters(a, e));
        expect(await store.rangeAggregates(T0 + 1, T0 + 2)).toEqual(letters());
        expect(await store.rangeAggregates(T0 - 1, T0)).toEqual(letters());
      });
    });

    describe('range dashboard', () => {
      test('is half-open at microsecond bounds: lower included, upper excluded', async ({ store, initial }) => {
        const S = WHOLE_SECOND;
        await initial(1, 'b', S - 1);
        await initial(2, 'b', S);
        await initial(3, 'b', S + 1);
        await initial(4, 'c', S + 2);
        const b = (count: number, earliest: Micros, latest: Micros) => ({ count, symbol: 'b', earliest, latest, followups: 0 }) as const;
        const c = { count: 1, symbol: 'c', earliest: S + 2, latest: S + 2, followups: 0 } as const;
        expect(await store.rangeAggregates(S, S + 2)).toEqual(letters(b(2, S, S + 1)));
        expect(await store.rangeAggregates(S - 1, S)).toEqual(letters(b(1, S - 1, S - 1)));
        expect(await store.rangeAggregates(S + 1, S + 2)).toEqual(letters(b(1, S + 1, S + 1)));
        expect(await store.rangeAggregates(S + 2, S + 3)).toEqual(letters(c));
        expect(await store.rangeAggregates(S - 1, S + 3)).toEqual(letters(b(3, S - 1, S + 1), c));
      });

      test('is empty when lower equals upper, even on an event', async ({ store, initial }) => {
        await initial(1, 'b', T0);
        expect(await store.rangeAggregates(T0, T0)).toEqual(letters());
      });

      test('is exact for any span, from one microsecond to years', async ({ store, initial }) => {
        await initial(1, 'y', T0 - 3 * YEAR);
        await initial(2, 'y', T0);
        await initial(3, 'y', T0 + DAY);
        await initial(4, 'x', T0 + 2 * YEAR);
        const y = (count: number, earliest: Micros, latest: Micros) => ({ count, symbol: 'y', earliest, latest, followups: 0 }) as const;
        const x = { count: 1, symbol: 'x', earliest: T0 + 2 * YEAR, latest: T0 + 2 * YEAR, followups: 0 } as const;
        expect(await store.rangeAggregates(T0, T0 + 1)).toEqual(letters(y(1, T0, T0)));
        expect(await store.rangeAggregates(T0, T0 + DAY)).toEqual(letters(y(1, T0, T0)));
        expect(await store.rangeAggregates(T0 + 1, T0 + DAY + 1)).toEqual(letters(y(1, T0 + DAY, T0 + DAY)));
        expect(await store.rangeAggregates(T0 - 5 * YEAR, T0 + 5 * YEAR)).toEqual(letters(y(3, T0 - 3 * YEAR, T0 + DAY), x));
      });

      test('counts the followups of initials in range whenever they arrived, and only those', async ({ store, initial, followup }) => {
        await initial(1, 'e', T0);
        await initial(2, 'e', T0 - 10);
        await followup(1, T0 + 1);
        await followup(2, T0 + 2);
        await followup(1, T0 + 3 * YEAR);
        expect(await store.rangeAggregates(T0, T0 + DAY)).toEqual(
          letters({ count: 1, symbol: 'e', earliest: T0, latest: T0, followups: 2 }),
        );
        expect(await store.rangeAggregates(T0 - 10, T0 + DAY)).toEqual(
          letters({ count: 2, symbol: 'e', earliest: T0 - 10, latest: T0, followups: 3 }),
        );
      });
    });

    describe('series', () => {
      test('counts initials on bucket boundaries and 1 µs either side, with their followups, in every zone', async ({ store, initial, followup }) => {
        const oracle = new Oracle();
        const cases = seriesCases(Date.now() * 1000);
        let n = 0;
        for (const event of edgeEvents(cases, new Random(24))) {
          n += 1;
          const uuid = uuidOf(n);
          expect(await initial(n, event.symbol, event.ts)).toEqual(oracle.record({ type: 'initial', uuid, symbol: event.symbol, guess: true, ts: event.ts }));
          for (let k = 1; k <= event.followups; k++) {
            expect(await followup(n, event.ts + k * HOUR)).toEqual(oracle.record({ type: 'followup', uuid, ts: event.ts + k * HOUR }));
          }
        }
        for (const query of cases) {
          for (const symbol of [null, 'e', 'z', 'q'] as const) await expectSeriesOf(store, oracle, { ...query, symbol });
        }
      }, 5 * 60_000);
    });

    describe('export', () => {
      test('yields every accepted event oldest first, ties in recording order, with exact fields', async ({ initial, followup, exported }) => {
        await initial(1, 'e', T0 + 10, false);
        await initial(2, 'a', T0, true);
        await followup(1, T0 + 20);
        await initial(3, 'z', T0 + 10, true);
        await followup(2, T0 + 10);
        expect(await exported()).toStrictEqual([
          { type: 'initial', uuid: uuidOf(2), symbol: 'a', guess: true, ts: T0 },
          { type: 'initial', uuid: uuidOf(1), symbol: 'e', guess: false, ts: T0 + 10 },
          { type: 'initial', uuid: uuidOf(3), symbol: 'z', guess: true, ts: T0 + 10 },
          { type: 'followup', uuid: uuidOf(2), ts: T0 + 10 },
          { type: 'followup', uuid: uuidOf(1), ts: T0 + 20 },
        ]);
      });

      test('filters half-open by from and to', async ({ initial, followup, exportedTimes }) => {
        const S = WHOLE_SECOND;
        await initial(1, 'e', S);
        await initial(2, 'f', S + 1);
        await followup(1, S + 2);
        await initial(3, 'g', S + 3);
        expect(await exportedTimes({ from: S + 1, to: S + 3 })).toEqual([S + 1, S + 2]);
        expect(await exportedTimes({ from: S + 1 })).toEqual([S + 1, S + 2, S + 3]);
        expect(await exportedTimes({ to: S + 1 })).toEqual([S]);
        expect(await exportedTimes({ from: S + 2, to: S + 2 })).toEqual([]);
      });

      test('yields each event once at the edges of any window a reader may split the range into', async ({ initial, followup, exportedTimes }) => {
        // Events 1, 2, 4, 8 … 2^20 s after the first, each with neighbours one microsecond either
        // side, and a gap of years: edges of windows that start at an event and double their width.
        const S = WHOLE_SECOND;
        const times = [S, S + 1];
        for (let k = 0; k <= 20; k++) {
          const edge = S + (2 ** k - 1) * 1_000_000;
          times.push(edge - 1, edge, edge + 1);
        }
        times.push(S + 3 * 365 * DAY);
        const unique = [...new Set(times)].sort((a, b) => a - b);
        for (const [i, ts] of unique.entries()) {
          if (i % 2 === 0) expect(await initial(i + 1, 'e', ts)).toEqual({ outcome: 'recorded' });
          else expect(await followup(i, ts)).toEqual({ outcome: 'recorded' });
        }
        expect(await exportedTimes()).toEqual(unique);
        expect(await exportedTimes({ from: S, to: S + 3 * 365 * DAY })).toEqual(unique.slice(1, -1));
      });
    });

    describe('a seeded random stream', () => {
      // A few thousand requests, each its own commit on a durable store: slow on a busy disk. The
      // generous timeout only keeps a loaded machine from failing it; nothing here asserts a speed.
      test('gets the answers of the oracle, for every request, letter, range and export', async ({ store }) => {
        const requests = generateEvents({
          seed: 20170628, initials: 2000, start: T0, spanMicros: 30 * DAY, noiseShare: 0.05, absentLetters: ['q'],
        });
        const oracle = new Oracle();
        for (const [i, { event, expected }] of requests.entries()) {
          const answer = oracle.record(event);
          expect(answer, `the oracle disagrees with the generator on request ${i}`).toEqual(expected);
          expect(await recordEvent(store, event), `request ${i}: ${JSON.stringify(event)}`).toEqual(answer);
        }
        const timestamps = requests.map(({ event }) => event.ts);
        await expectAnswersOf(store, oracle, probeRanges(new Random(1), timestamps, 50));
        for (const query of streamSeries(new Random(1), timestamps)) await expectSeriesOf(store, oracle, query);
      }, 10 * 60_000);

      test('stored through loadEvents, the bulk path, answers as if each event were recorded', async ({ store }) => {
        const oracle = new Oracle();
        // The bulk path takes what the record calls would store: the events the oracle records.
        const stored = generateEvents({ seed: 19700101, initials: 3000, start: T0, spanMicros: 30 * DAY, noiseShare: 0.05 })
          .map(({ event }) => event)
          .filter((event) => oracle.record(event).outcome === 'recorded');
        await store.loadEvents(stored.slice(0, 1000));
        await store.loadEvents(stored.slice(1000));
        await expectAnswersOf(store, oracle, probeRanges(new Random(2), stored.map((event) => event.ts), 50));
        for (const query of streamSeries(new Random(2), stored.map((event) => event.ts))) await expectSeriesOf(store, oracle, query);
      }, 5 * 60_000);
    });
  });
}

interface Fixture {
  store: DataInterface;
  initial: (n: number, symbol: Letter, ts: Micros, guess?: boolean) => Promise<InitialResult>;
  followup: (n: number, ts: Micros) => Promise<FollowupResult>;
  exported: (range?: ExportRange) => Promise<RawEvent[]>;
  exportedTimes: (range?: ExportRange) => Promise<Micros[]>;
}

/** Short hands for a test's store: participant `n` has the uuid uuidOf(n). */
function fixtureFor(store: DataInterface): Fixture {
  const exported = (range?: ExportRange) => collect(store.exportEvents(range));
  return {
    store,
    initial: (n, symbol, ts, guess = true) => store.recordInitial({ uuid: uuidOf(n), symbol, guess, ts }),
    followup: (n, ts) => store.recordFollowup({ uuid: uuidOf(n), ts }),
    exported,
    exportedTimes: async (range) => (await exported(range)).map((event) => event.ts),
  };
}

/** Checks every letter, every given range and the export (whole and on a few ranges) against the oracle. */
export async function expectAnswersOf(
  store: DataInterface,
  oracle: Oracle,
  ranges: ReadonlyArray<readonly [Micros, Micros]>,
): Promise<void> {
  for (const letter of LETTERS) {
    expect(await store.symbolAggregate(letter), `symbol ${letter}`).toEqual(oracle.symbolAggregate(letter));
  }
  expect(await store.symbolAggregates(), 'every symbol at once').toEqual(LETTERS.map((letter) => oracle.symbolAggregate(letter)));
  for (const [lower, upper] of ranges) {
    expect(await store.rangeAggregates(lower, upper), `range ${span(lower, upper)}`).toEqual(oracle.rangeAggregates(lower, upper));
  }
  expect(await collect(store.exportEvents())).toStrictEqual(oracle.exportEvents());
  for (const [from, to] of ranges.slice(0, 5)) {
    expect(await collect(store.exportEvents({ from, to })), `export ${span(from, to)}`).toStrictEqual(oracle.exportEvents({ from, to }));
  }
}

/**
 * Ranges worth asking: the whole stream, bounds on event timestamps (exactness), one microsecond,
 * lower equal to upper, short ones and random ones of any width. `timestamps` must not be empty.
 */
export function probeRanges(random: Random, timestamps: readonly Micros[], count: number): Array<[Micros, Micros]> {
  const first = timestamps.reduce((a, b) => Math.min(a, b));
  const last = timestamps.reduce((a, b) => Math.max(a, b));
  const someEvent = random.pick(timestamps);
  const ranges: Array<[Micros, Micros]> = [[first, last + 1], [first, last], [someEvent, someEvent], [someEvent, someEvent + 1]];
  const instant = () => (random.chance(0.5) ? random.pick(timestamps) : first + random.int(last - first + 1));
  while (ranges.length < count) {
    const a = instant();
    const b = random.chance(0.3) ? a + random.int(HOUR) : instant();
    ranges.push([Math.min(a, b), Math.max(a, b)]);
  }
  return ranges;
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

function span(from: Micros, to: Micros): string {
  return `[${formatMicros(from)}, ${formatMicros(to)})`;
}

/** The 26 aggregates of a range: empty except the given ones. */
function letters(...nonEmpty: SymbolAggregate[]): SymbolAggregate[] {
  return LETTERS.map((letter) => nonEmpty.find((aggregate) => aggregate.symbol === letter) ?? emptyAggregate(letter));
}

/** A readable valid v4 uuid per test participant: uuidOf(1) is 00000000-0000-4000-8000-000000000001. */
function uuidOf(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

function micros(text: string): Micros {
  const ts = parseTimestamp(text);
  if (ts === undefined) throw new Error(`not a timestamp: ${text}`);
  return ts;
}

function expectWellFormedAggregate(aggregate: SymbolAggregate, symbol: Letter): void {
  expect(Object.keys(aggregate)).toEqual(AGGREGATE_KEYS);
  expect(aggregate.symbol).toBe(symbol);
  expect(isCount(aggregate.count) && isCount(aggregate.followups), 'counts are integers >= 0').toBe(true);
  if (aggregate.count === 0) {
    expect([aggregate.earliest, aggregate.latest]).toEqual([null, null]);
  } else {
    const { earliest, latest } = aggregate;
    expect(Number.isSafeInteger(earliest) && Number.isSafeInteger(latest) && earliest! <= latest!, 'earliest <= latest, in µs').toBe(true);
  }
}

function expectWellFormedEvent(event: RawEvent): void {
  const keys = event.type === 'initial' ? ['guess', 'symbol', 'ts', 'type', 'uuid'] : ['ts', 'type', 'uuid'];
  expect(Object.keys(event).sort()).toEqual(keys);
  expect(event.uuid).toMatch(UUID);
  expect(Number.isSafeInteger(event.ts)).toBe(true);
  if (event.type === 'initial') expect(isLetter(event.symbol) && typeof event.guess === 'boolean').toBe(true);
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
