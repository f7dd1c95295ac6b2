import { describe, expect, it } from 'vitest';
import { LETTERS, type Letter } from '../interfaces/contract.ts';
import { englishLetterShare, englishLetters, textLetters } from './letters.ts';
import { requestRandom } from './random.ts';

describe('textLetters', () => {
  it('lower-cases, skips everything but a-z, and cycles', () => {
    const letters = textLetters('Call me Ishmael. 42 ÉtÉ!');
    const first = Array.from({ length: 15 }, (_, i) => letters(i, () => 0)).join('');
    expect(first).toBe('callmeishmaeltc');
  });

  it('refuses a text without letters', () => {
    expect(() => textLetters('1234 — …')).toThrow(/no letters/);
  });
});

describe('englishLetters', () => {
  it('draws with English letter frequencies', () => {
    const n = 200_000;
    const counts = new Map<Letter, number>();
    for (let i = 0; i < n; i++) {
      const random = requestRandom('frequencies', i);
      const letter = englishLetters(i, () => random.float());
      counts.set(letter, (counts.get(letter) ?? 0) + 1);
    }
    for (const letter of LETTERS) {
      const share = englishLetterShare(letter);
      // Four standard deviations of a binomial share.
      const tolerance = 4 * Math.sqrt((share * (1 - share)) / n);
      expect(Math.abs((counts.get(letter) ?? 0) / n - share), letter).toBeLessThan(tolerance);
    }
  });

  it('maps the ends of [0, 1) to a and z', () => {
    expect(englishLetters(0, () => 0)).toBe('a');
    expect(englishLetters(0, () => 1 - 2 ** -53)).toBe('z');
  });

  it('has shares that add up to 1', () => {
    expect(LETTERS.reduce((sum, letter) => sum + englishLetterShare(letter), 0)).toBeCloseTo(1, 12);
  });
});
