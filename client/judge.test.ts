import { describe, expect, it } from 'vitest';
import type { Letter } from '../interfaces/contract.ts';
import { isVowel, parseGuess, shouldFollowUp } from './judge.ts';
import { requestRandom } from './random.ts';

describe('the truth', () => {
  it('is vowel for a e i o u, consonant for the rest, a coin for y', () => {
    expect(['a', 'e', 'i', 'o', 'u'].every((l) => isVowel(l as Letter, 0.9))).toBe(true);
    expect(['b', 'k', 'x', 'z'].some((l) => isVowel(l as Letter, 0.1))).toBe(false);
    expect(isVowel('y', 0.49)).toBe(true);
    expect(isVowel('y', 0.5)).toBe(false);
  });
});

describe('the follow-up decision', () => {
  // Simulates many initials as the client does them: its own draws from seeded generators, and a
  // server that guesses right with probability 0.9 (its truth for "y" being its own coin).
  function followupRate(letter: Letter, n = 100_000): number {
    let followups = 0;
    for (let i = 0; i < n; i++) {
      const client = requestRandom(`decision-${letter}`, i);
      const server = requestRandom(`server-${letter}`, i);
      const truth = isVowel(letter, client.float());
      const serverTruth = letter === 'y' ? server.float() < 0.5 : truth;
      const serverSaidVowel = server.float() < 0.1 ? !serverTruth : serverTruth;
      if (shouldFollowUp(truth, serverSaidVowel, client.float())) followups++;
    }
    return followups / n;
  }

  it.each([
    ['e', 0.9 * 0.1], // right 90 % of the time, then 10 %
    ['t', 0.9 * 0.2],
    ['y', 0.5 * (0.5 * 0.1 + 0.5 * 0.2)], // the two coins agree half the time
  ] as const)('follows up on %s at the expected rate', (letter, expected) => {
    expect(Math.abs(followupRate(letter) - expected)).toBeLessThan(0.005);
  });

  it('never follows up a wrong answer, and the chances are 0.1 and 0.2', () => {
    expect(shouldFollowUp(true, false, 0)).toBe(false);
    expect(shouldFollowUp(false, true, 0)).toBe(false);
    expect(shouldFollowUp(true, true, 0.099)).toBe(true);
    expect(shouldFollowUp(true, true, 0.1)).toBe(false);
    expect(shouldFollowUp(false, false, 0.199)).toBe(true);
    expect(shouldFollowUp(false, false, 0.2)).toBe(false);
  });
});

describe('parseGuess', () => {
  it('reads True and False only', () => {
    expect(parseGuess('True')).toBe(true);
    expect(parseGuess('False')).toBe(false);
    expect(parseGuess('true')).toBeUndefined();
  });
});
