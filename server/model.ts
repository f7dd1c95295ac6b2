// The "model": a deliberately noisy guess of whether a letter is a vowel.

import type { Letter } from '../interfaces/contract.ts';

/** A uniform draw in [0, 1); injectable so tests are deterministic. */
export type Random = () => number;

const VOWELS: ReadonlySet<Letter> = new Set(['a', 'e', 'i', 'o', 'u']);
const FLIP_PROBABILITY = 0.1;

export function createGuesser(random: Random = Math.random): (symbol: Letter) => boolean {
  return (symbol) => {
    // "y" is a vowel or not by a fair coin; then the answer is flipped one time in ten.
    const truth = VOWELS.has(symbol) || (symbol === 'y' && random() < 0.5);
    return random() < FLIP_PROBABILITY ? !truth : truth;
  };
}
