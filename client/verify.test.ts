import { describe, expect, it } from 'vitest';
import { LETTERS, type Letter } from '../interfaces/contract.ts';
import { formatMicros, parseTimestamp, type Micros } from '../interfaces/time.ts';
import { perLetter } from './stats.ts';
import { compareDashboards, type SymbolDashboard } from './verify.ts';

const START = parseTimestamp('2030-01-01 12:00:00') as Micros;
const END = START + 10_000_000;
const window = { start: START, end: END };

/** Initials and followups per letter. */
type Counts = Partial<Record<Letter, readonly [number, number]>>;

function dashboards(counts: Counts, at: Micros = START + 1): SymbolDashboard[] {
  return LETTERS.map((symbol) => {
    const [count, followups] = counts[symbol] ?? [0, 0];
    const ts = count > 0 ? formatMicros(at) : null;
    return { count, symbol, earliest: ts, latest: ts, followups };
  });
}

function acknowledged(counts: Counts) {
  const initials = perLetter();
  const followups = perLetter();
  for (const [letter, [count, followed]] of Object.entries(counts) as [Letter, [number, number]][]) {
    initials[letter] = count;
    followups[letter] = followed;
  }
  return { initials, followups };
}

const sent: Counts = { e: [3, 1], t: [2, 0] };

describe('compareDashboards', () => {
  it('finds nothing when every dashboard agrees', () => {
    const after = dashboards(sent);
    expect(compareDashboards({ before: dashboards({}), after, acknowledged: acknowledged(sent), strict: { window, range: after } })).toEqual([]);
  });

  it('compares the change of count and followups with what was acknowledged', () => {
    const differences = compareDashboards({
      before: dashboards({ e: [10, 4] }),
      after: dashboards({ e: [12, 5], t: [2, 1] }),
      acknowledged: acknowledged(sent),
    });
    expect(differences).toEqual([
      { letter: 'e', check: 'count change', expected: '3', actual: '2' },
      { letter: 't', check: 'followups change', expected: '0', actual: '1' },
    ]);
  });

  it('strictly: earliest and latest fall in the run window, null where nothing was sent', () => {
    const early = dashboards(sent, START - 2_000_000);
    const differences = compareDashboards({ before: dashboards({}), after: early, acknowledged: acknowledged(sent), strict: { window, range: early } });
    expect(differences.map((d) => `${d.letter} ${d.check}`)).toEqual(['e earliest', 'e latest', 't earliest', 't latest']);
    expect(differences[0]!.expected).toMatch(/^within 2030-01-01 11:59:59\.000000 to 2030-01-01 12:00:11\.000000$/);

    const stray = dashboards({ ...sent, z: [0, 0] });
    stray[25] = { ...stray[25]!, earliest: formatMicros(START) };
    expect(compareDashboards({ before: dashboards({}), after: stray, acknowledged: acknowledged(sent), strict: { window, range: dashboards(sent) } }))
      .toEqual([{ letter: 'z', check: 'earliest', expected: 'null', actual: formatMicros(START) }]);
  });

  it('strictly: the range dashboard over the window has the same counts and followups', () => {
    const differences = compareDashboards({
      before: dashboards({}),
      after: dashboards(sent),
      acknowledged: acknowledged(sent),
      strict: { window, range: dashboards({ e: [3, 0], t: [1, 0] }) },
    });
    expect(differences.map((d) => `${d.letter} ${d.check} ${d.expected} ${d.actual}`)).toEqual([
      'e range followups 1 0',
      't range count 2 1',
    ]);
  });
});
