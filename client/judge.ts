// How the original client judges the server's guess, and when it is pleased enough to follow up.

import type { Letter } from '../interfaces/contract.ts';

const VOWELS: ReadonlySet<Letter> = new Set(['a', 'e', 'i', 'o', 'u']);

/** The truth for `letter`; "y" is decided by the client's own fair coin, a draw in [0, 1). */
export function isVowel(letter: Letter, coin: number): boolean {
  return letter === 'y' ? coin < 0.5 : VOWELS.has(letter);
}

const FOLLOWUP_CHANCE = { vowel: 0.1, consonant: 0.2 } as const;

/** Follow up only when the server was right, and then with the vowel's or consonant's chance. */
export function shouldFollowUp(truth: boolean, serverSaidVowel: boolean, draw: number): boolean {
  if (serverSaidVowel !== truth) return false;
  return draw < (truth ? FOLLOWUP_CHANCE.vowel : FOLLOWUP_CHANCE.consonant);
}

/** The server's `True`/`False`; undefined for anything else. */
export function parseGuess(body: string): boolean | undefined {
  if (body === 'True') return true;
  if (body === 'False') return false;
  return undefined;
}
