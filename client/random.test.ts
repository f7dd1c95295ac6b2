import { describe, expect, it } from 'vitest';
import { requestRandom, uuid4, type Prng } from './random.ts';

const draws = (random: Prng, n: number) => Array.from({ length: n }, () => random.uint32());

describe('seeded randomness', () => {
  it('gives the same draws for the same seed and index', () => {
    expect(draws(requestRandom('42', 7), 10)).toEqual(draws(requestRandom('42', 7), 10));
  });

  it('gives unrelated draws for another seed or another index', () => {
    const reference = draws(requestRandom('42', 7), 10);
    expect(draws(requestRandom('43', 7), 10)).not.toEqual(reference);
    expect(draws(requestRandom('42', 8), 10)).not.toEqual(reference);
  });

  it('draws floats uniformly in [0, 1)', () => {
    const random = requestRandom('uniform', 0);
    const n = 100_000;
    const values = Array.from({ length: n }, () => random.float());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const deciles = new Array<number>(10).fill(0);
    for (const x of values) deciles[Math.floor(x * 10)]!++;
    for (const count of deciles) expect(Math.abs(count / n - 0.1)).toBeLessThan(0.005);
  });
});

describe('uuid4', () => {
  const uuids = Array.from({ length: 10_000 }, (_, i) => uuid4(requestRandom('uuids', i)));

  it('is canonical, lower case, version 4, variant 10xx', () => {
    for (const uuid of uuids) expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('is unique and reproducible', () => {
    expect(new Set(uuids).size).toBe(uuids.length);
    expect(uuid4(requestRandom('uuids', 3))).toBe(uuids[3]);
  });

  it('spreads the variant over all four values', () => {
    const variants = new Set(uuids.map((uuid) => uuid[19]));
    expect([...variants].sort()).toEqual(['8', '9', 'a', 'b']);
  });
});
