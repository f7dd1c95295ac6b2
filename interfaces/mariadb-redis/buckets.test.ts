import { describe, expect, it } from 'vitest';
import { parseTimestamp, type Micros } from '../time.ts';
import { bucketExpiry, LEVELS, planRange } from './buckets.ts';

const NOW = parseTimestamp('2026-11-22 12:00:00.123456') as Micros;
const SECOND = 1_000_000;
const DAY = 86_400 * SECOND;

/** Every stretch the plan answers, as [start, end) sorted by start. */
function stretches(lower: Micros, upper: Micros, now: Micros) {
  const plan = planRange(lower, upper, now);
  const parts = [
    ...plan.buckets.map((b) => ({ start: b.index * b.level.micros, end: (b.index + 1) * b.level.micros, bucket: b })),
    ...plan.edges.map(([start, end]) => ({ start, end, bucket: undefined })),
  ].sort((a, b) => a.start - b.start);
  return { plan, parts };
}

// A small seeded generator keeps the property test reproducible.
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('planRange', () => {
  const draw = random(42);
  const spans = [1, 999, SECOND, 61 * SECOND, 3 * 3600 * SECOND, DAY + 7, 40 * DAY, 5 * 365 * DAY, 230 * 365 * DAY];
  const cases = Array.from({ length: 400 }, (_, i) => {
    const span = Math.floor((spans[i % spans.length] as number) * (0.5 + draw()));
    const lower = NOW - Math.floor(draw() * 60 * DAY) - (i % 7 === 0 ? span : 0);
    return [lower, lower + span] as const;
  });

  it('tiles [lower, upper) exactly: no gap, no overlap', () => {
    for (const [lower, upper] of cases) {
      const { parts } = stretches(lower, upper, NOW);
      let at = lower;
      for (const part of parts) {
        expect(part.start, `range ${lower}..${upper}`).toBe(at);
        expect(part.end).toBeGreaterThan(part.start);
        at = part.end;
      }
      expect(at).toBe(upper);
    }
  });

  it('reads no bucket that a write would have skipped or that may have expired', () => {
    for (const [lower, upper] of cases) {
      for (const { bucket, start } of stretches(lower, upper, NOW).parts) {
        if (!bucket) continue;
        // Written by an event at the bucket's start, at a "now" up to 5 minutes later than this reader's.
        expect(bucketExpiry(bucket.level, start, NOW + 5 * 60 * SECOND).keep).toBe(true);
        const { expireAtSeconds } = bucketExpiry(bucket.level, start, NOW);
        if (expireAtSeconds > 0) expect(expireAtSeconds * SECOND).toBeGreaterThan(NOW + 5 * 60 * SECOND);
      }
    }
  });

  it('stays bounded: a few hundred buckets and two short edges, whatever the range', () => {
    // Each end at most one coarser bucket's worth of each finer level, then the coarsest in the middle.
    const perSide = LEVELS.slice(0, -1).reduce((sum, level, i) => sum + LEVELS[i + 1]!.micros / level.micros - 1, 0);
    for (const [lower, upper] of cases) {
      const { plan } = stretches(lower, upper, NOW);
      expect(plan.buckets.length).toBeLessThanOrEqual(2 * perSide + Math.ceil((upper - lower) / (1024 * DAY)));
      expect(plan.edges.length).toBeLessThanOrEqual(2);
      const recent = lower > NOW - 5 * 3600 * SECOND;
      for (const [start, end] of plan.edges) expect(end - start).toBeLessThan(recent ? 2 * SECOND : 2 * 3600 * SECOND);
    }
  });

  it('uses the coarsest buckets that fit: 6 hours from one bucket, old days from day buckets', () => {
    const today = Math.floor(NOW / DAY) * DAY;
    const recent = planRange(today, today + 3600 * SECOND * 6, NOW);
    expect(recent.edges).toEqual([]);
    expect(recent.buckets.map((b) => b.level.tag)).toEqual(['h6']);
    const old = planRange(today - 400 * DAY, today - 398 * DAY, NOW);
    expect(old.buckets.map((b) => b.level.tag)).toEqual(['d', 'd']);
  });

  it('reads few buckets for the usual ranges ending now', () => {
    for (const span of [3600 * SECOND, DAY, 30 * DAY]) {
      expect(planRange(NOW - span, NOW, NOW).buckets.length).toBeLessThanOrEqual(60);
    }
  });

  it('keeps fine levels for their retention only', () => {
    const second = LEVELS[0]!;
    expect(bucketExpiry(second, NOW - 3600 * SECOND, NOW).keep).toBe(true);
    expect(bucketExpiry(second, NOW - 7 * 3600 * SECOND, NOW).keep).toBe(false);
    expect(bucketExpiry(LEVELS.find((level) => level.tag === 'h')!, 0, NOW)).toEqual({ keep: true, expireAtSeconds: 0 });
  });
});
