// Latency percentiles in constant memory, however long the run: a log-linear histogram of whole
// microseconds, exact below 128 µs and then 64 buckets per power of two (within 1/64 of the truth).

const SUB_BUCKETS = 64;

function bucketOf(micros: number): number {
  const shift = Math.max(0, 31 - Math.clz32(micros) - 6);
  return SUB_BUCKETS * shift + (micros >>> shift);
}

/** The largest value that falls in `bucket`. */
function bucketTop(bucket: number): number {
  if (bucket < 2 * SUB_BUCKETS) return bucket;
  const shift = Math.floor(bucket / SUB_BUCKETS) - 1;
  return (bucket - SUB_BUCKETS * shift + 1) * 2 ** shift - 1;
}

export class LatencyHistogram {
  readonly #counts: number[] = [];
  #count = 0;
  #maxMicros = 0;

  record(milliseconds: number): void {
    const micros = Math.min(Math.max(Math.round(milliseconds * 1000), 0), 2 ** 31 - 1);
    const bucket = bucketOf(micros);
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.#count++;
    this.#maxMicros = Math.max(this.#maxMicros, micros);
  }

  get count(): number {
    return this.#count;
  }

  get maxMs(): number {
    return this.#maxMicros / 1000;
  }

  /** Nearest-rank percentile in ms: at least `percent` % of the values are at most this; 0 when empty. */
  percentileMs(percent: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.#count));
    let seen = 0;
    for (let bucket = 0; bucket < this.#counts.length; bucket++) {
      seen += this.#counts[bucket] ?? 0;
      if (seen >= rank) return Math.min(bucketTop(bucket), this.#maxMicros) / 1000;
    }
    return this.maxMs;
  }
}
