import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS, latencyBucket, quantile } from './history.js';

describe('the history latency histogram', () => {
  it('puts a duration in the first bucket whose bound holds it, past the last in the overflow', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(50)).toBe(0);
    expect(latencyBucket(50.1)).toBe(1);
    expect(latencyBucket(300_000)).toBe(LATENCY_BUCKETS_MS.length - 1);
    expect(latencyBucket(300_001)).toBe(LATENCY_BUCKETS_MS.length);
  });

  it('interpolates quantiles inside their bucket, like histogram_quantile', () => {
    const counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
    expect(quantile(counts, 0.5)).toBeNull();
    counts[1] = 10; // ten requests between 50 and 100 ms
    expect(quantile(counts, 0.5)).toBe(75);
    expect(quantile(counts, 1)).toBe(100);
    counts[LATENCY_BUCKETS_MS.length] = 10; // ten past the last bound
    expect(quantile(counts, 0.25)).toBe(75);
    expect(quantile(counts, 0.95)).toBe(LATENCY_BUCKETS_MS.at(-1));
  });
});
