import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from './fast.js';

/** The fast families must read exactly like prom-client's own, to Prometheus and to the primary's sum. */

const lines = async (r: Registry) =>
  (await r.metrics())
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\{(.*)\}/, (_, inner: string) => `{${inner.split(',').sort().join(',')}}`))
    .sort();

describe('fast counters and histograms', () => {
  it('expose the same samples as prom-client for the same observations', async () => {
    const slow = new Registry();
    const fast = new Registry();
    const buckets = [0.01, 0.1, 1, 10];
    const h1 = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['a', 'b'], buckets, registers: [slow] });
    const h2 = new FastHistogram({ name: 'x_seconds', help: 'h', labelNames: ['a', 'b'], buckets, registry: fast });
    const c1 = new Counter({ name: 'y_total', help: 'c', labelNames: ['k'], registers: [slow] });
    const c2 = new FastCounter({ name: 'y_total', help: 'c', labelNames: ['k'], registry: fast });
    const values = [0, 0.005, 0.01, 0.05, 0.5, 1, 3, 10, 11, 1e6];
    values.forEach((v, i) => {
      const [a, b] = i % 2 ? ['p', 'q'] : ['r', 's'];
      h1.observe({ a, b }, v);
      h2.child(a, b).observe(v);
      c1.inc({ k: a }, v);
      c2.child(a).inc(v);
    });
    expect(await lines(fast)).toEqual(await lines(slow));
  });

  it('a label-less family created with child() exports its zero', async () => {
    const r = new Registry();
    new FastCounter({ name: 'z_total', help: 'z', registry: r }).child();
    expect(await lines(r)).toEqual(['z_total 0']);
  });
});
