// Where the symbols come from: the letters of a text, in order and round again (the original client
// read a novel), or independent draws with the letter frequencies of English.

import { readFile } from 'node:fs/promises';
import { LETTERS, isLetter, type Letter } from '../interfaces/contract.ts';

/** The symbol of initial number `index`; `random` is that initial's own uniform draw in [0, 1). */
export type LetterSource = (index: number, random: () => number) => Letter;

/** Relative frequency of each letter in English text, in percent (a to z). */
const ENGLISH_FREQUENCIES: Record<Letter, number> = {
  a: 8.167, b: 1.492, c: 2.782, d: 4.253, e: 12.702, f: 2.228, g: 2.015, h: 6.094, i: 6.966,
  j: 0.153, k: 0.772, l: 4.025, m: 2.406, n: 6.749, o: 7.507, p: 1.929, q: 0.095, r: 5.987,
  s: 6.327, t: 9.056, u: 2.758, v: 0.978, w: 2.36, x: 0.15, y: 1.974, z: 0.074,
};

const FREQUENCY_TOTAL = LETTERS.reduce((sum, letter) => sum + ENGLISH_FREQUENCIES[letter], 0);

// Upper bound of each letter's slice of [0, 1), a to z.
const CUMULATIVE_SHARES = LETTERS.map(
  (_, i) => LETTERS.slice(0, i + 1).reduce((sum, letter) => sum + ENGLISH_FREQUENCIES[letter], 0) / FREQUENCY_TOTAL,
);

/** The chance of drawing `letter` from `englishLetters`. */
export function englishLetterShare(letter: Letter): number {
  return ENGLISH_FREQUENCIES[letter] / FREQUENCY_TOTAL;
}

export const englishLetters: LetterSource = (_index, random) => {
  const draw = random();
  const slice = CUMULATIVE_SHARES.findIndex((upper) => draw < upper);
  // A draw a rounding error above the last bound still belongs to the last letter.
  return LETTERS[slice === -1 ? LETTERS.length - 1 : slice]!;
};

/** The letters of `text`, lower-cased, everything else skipped, cycled through from the start. */
export function textLetters(text: string): LetterSource {
  const letters = [...text.toLowerCase()].filter(isLetter);
  if (letters.length === 0) throw new Error('the text has no letters a-z');
  return (index) => letters[index % letters.length]!;
}

export async function textFileLetters(path: string): Promise<LetterSource> {
  return textLetters(await readFile(path, 'utf8'));
}
