import type { UsageFigures, UsageReport } from '../usage/queries.js';
import { count, usd, type Output } from './output.js';

const HEADERS = ['REQUESTS', 'ERRORS', 'INPUT', 'OUTPUT', 'CACHE WRITE', 'CACHE READ', 'COST'] as const;

const cells = (f: UsageFigures): string[] => [
  count(f.requests),
  count(f.errors),
  count(f.inputTokens),
  count(f.outputTokens),
  count(f.cacheCreateTokens),
  count(f.cacheReadTokens),
  usd(f.cost),
];

/** A usage report as tables: all-time total, one row per day of the window, all-time per model. */
export function printUsage(out: Output, title: string, report: UsageReport, days: number, timeZone: string): void {
  out.line(title);
  out.line();
  out.table(['', ...HEADERS], [['All time', ...cells(report.total)]]);
  out.line();
  out.line(`Last ${days} day${days === 1 ? '' : 's'} (${timeZone}):`);
  out.table(
    ['DATE', ...HEADERS],
    report.daily.map((d) => [d.date, ...cells(d)]),
  );
  out.line();
  if (report.models.length === 0) {
    out.line('By model (all time): no requests yet.');
    return;
  }
  out.line('By model (all time):');
  out.table(
    ['MODEL', ...HEADERS],
    report.models.map((m) => [m.model, ...cells(m)]),
  );
  const fallback = report.total.fallbackPriced;
  if (fallback > 0)
    out.line(`\n${count(fallback)} request(s) were priced by the fallback rule (model not in the pricing table).`);
}
