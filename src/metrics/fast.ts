import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the hot path. prom-client validates and hashes the label set on
 * every inc() and observe(), even through a labelled child; here a label set is looked up once and
 * each call is an addition. The registry reads them at scrape time through the same `get()` shape
 * prom-client's own metrics have, so the exposition and the primary's aggregation are unchanged.
 */

type Labels = Record<string, string>;

class Family<C> {
  protected readonly cells = new Map<string, { labels: Labels; cell: C }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly make: () => C,
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The cell of one label set, values in `labelNames` order. */
  child(...values: string[]): C {
    const id = values.length === 1 ? (values[0] as string) : values.join('\u0001');
    let entry = this.cells.get(id);
    if (!entry) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      entry = { labels, cell: this.make() };
      this.cells.set(id, entry);
    }
    return entry.cell;
  }
}

export class CounterCell {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class FastCounter extends Family<CounterCell> {
  constructor(opts: { name: string; help: string; labelNames?: readonly string[]; registry: Registry }) {
    super(opts.name, opts.help, opts.labelNames ?? [], () => new CounterCell(), opts.registry);
  }
  get() {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      aggregator: 'sum',
      values: [...this.cells.values()].map(({ labels, cell }) => ({ labels, value: cell.value })),
    };
  }
}

export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= (b[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }
}

export class FastHistogram extends Family<HistogramCell> {
  private readonly bounds: readonly number[];
  private readonly beforeScrape: (() => Promise<void>) | undefined;
  constructor(opts: {
    name: string;
    help: string;
    labelNames?: readonly string[];
    buckets: readonly number[];
    registry: Registry;
    /** Runs before the values are read (a scrape-time observation). */
    beforeScrape?: () => Promise<void>;
  }) {
    super(opts.name, opts.help, opts.labelNames ?? [], () => new HistogramCell(opts.buckets), opts.registry);
    this.bounds = opts.buckets;
    this.beforeScrape = opts.beforeScrape;
  }
  async get() {
    await this.beforeScrape?.();
    const values: { labels: Labels; value: number; metricName: string }[] = [];
    for (const { labels, cell } of this.cells.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += cell.counts[i] ?? 0;
        values.push({ labels: { ...labels, le: String(le) }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: cell.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}
