import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency.ts';
import { requestRandom } from './random.ts';

function exactPercentile(sorted: number[], percent: number): number {
  return sorted[Math.max(1, Math.ceil((percent / 100) * sorted.length)) - 1]!;
}

describe('LatencyHistogram', () => {
  it('is exact for small values', () => {
    const histogram = new LatencyHistogram();
    for (let micros = 1; micros <= 100; micros++) histogram.record(micros / 1000);
    expect(histogram.percentileMs(50)).toBe(0.05);
    expect(histogram.percentileMs(99)).toBe(0.099);
    expect(histogram.percentileMs(100)).toBe(0.1);
    expect(histogram.maxMs).toBe(0.1);
  });

  it('is within 1/64 of the exact nearest-rank percentile over a wide spread', () => {
    const histogram = new LatencyHistogram();
    const random = requestRandom('latency', 0);
    // Log-uniform from 10 µs to 10 s, rounded to the microsecond as recorded.
    const values = Array.from({ length: 50_000 }, () => Math.round(10 ** (1 + 6 * random.float())) / 1000);
    for (const value of values) histogram.record(value);
    const sorted = [...values].sort((a, b) => a - b);
    for (const percent of [1, 10, 50, 90, 95, 99, 99.9, 100]) {
      const exact = exactPercentile(sorted, percent);
      const estimate = histogram.percentileMs(percent);
      expect(estimate).toBeGreaterThanOrEqual(exact);
      expect((estimate - exact) / exact, `p${percent}`).toBeLessThanOrEqual(1 / 64);
    }
    expect(histogram.maxMs).toBe(sorted.at(-1));
    expect(histogram.count).toBe(values.length);
  });

  it('answers 0 when empty', () => {
    expect(new LatencyHistogram().percentileMs(99)).toBe(0);
  });
});
