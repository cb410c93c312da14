import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { allPanels, concreteExpr, dashboardExpressions, loadDashboards, ROOT } from './dashboards.js';

/**
 * The shipped Prometheus rules and Grafana dashboards against the metrics contract in
 * docs/OBSERVABILITY.md: promtool checks and unit-tests the rules, and every query may name only
 * the metrics and labels that file lists, so a renamed metric breaks here rather than on a
 * dashboard that silently shows nothing.
 */

const run = promisify(execFile);

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: ROOT });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      return { code: -1, output: "promtool not found: install Debian's prometheus package (ops/test.sh does)" };
    }
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? String(err)}` };
  }
}

const NAME = /\b(relay_[a-z0-9_]+|nodejs_[a-z0-9_]+|process_[a-z0-9_]+|up)\b/g;
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['instance', 'job'];

/** Documented metrics and their labels, read from the Metrics table and the prose around it. */
function documentedMetrics(): Map<string, Set<string>> {
  const doc = readFileSync(path.join(ROOT, 'docs/OBSERVABILITY.md'), 'utf8');
  const metrics = new Map<string, Set<string>>([['up', new Set()]]);
  for (const [, code] of doc.matchAll(/`([^`]+)`/g)) {
    for (const [name] of code!.matchAll(NAME)) if (name !== 'up' && !metrics.has(name)) metrics.set(name, new Set());
  }
  // A table row: | `name`[, `name`] | type | `label` (`value` ...), `label` |
  for (const line of doc.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 5 || !cells[1]?.startsWith('`relay_')) continue;
    const labels = [...cells[3]!.replace(/\([^)]*\)/g, '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
    for (const [, name] of cells[1].matchAll(/`([a-z0-9_]+)`/g)) metrics.set(name!, new Set(labels));
  }
  return metrics;
}

const DOCUMENTED = documentedMetrics();
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** The documented metric a series name belongs to (a histogram's `_bucket` is its histogram's). */
function documentedName(name: string): string | undefined {
  if (DOCUMENTED.has(name)) return name;
  const base = name.replace(HISTOGRAM_SUFFIX, '');
  return base !== name && DOCUMENTED.has(base) ? base : undefined;
}

/** What an expression (or a promtool input series) uses that docs/OBSERVABILITY.md does not list. */
function undocumented(expr: string): string[] {
  const problems: string[] = [];
  // Label values (a cause, a job name) are not names: drop quoted strings before looking for names.
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = [...bare.matchAll(NAME)].map((m) => m[1]!);
  for (const name of names) if (!documentedName(name)) problems.push(`metric ${name}`);

  const known = new Set([...TARGET_LABELS, 'le']);
  for (const name of names) for (const label of DOCUMENTED.get(documentedName(name) ?? '') ?? []) known.add(label);

  for (const [, name, matchers] of bare.matchAll(/\b([a-z_][a-z0-9_]*)\s*\{([^}]*)\}/g)) {
    const metric = documentedName(name!);
    if (!metric) continue;
    const allowed = new Set([
      ...DOCUMENTED.get(metric)!,
      ...TARGET_LABELS,
      ...(name!.endsWith('_bucket') ? ['le'] : []),
    ]);
    for (const [, label] of matchers!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      if (!allowed.has(label!)) problems.push(`label ${label} on ${name}`);
    }
  }
  for (const [, clause] of bare.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const label of clause!.split(',').map((l) => l.trim())) {
      if (label && !known.has(label)) problems.push(`label ${label} in a grouping`);
    }
  }
  return problems;
}

/** The `expr:` values of a rules file: one line, or an indented block under `expr: |`. */
function ruleExpressions(file: string): string[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const exprs: string[] = [];
  for (const [i, line] of lines.entries()) {
    const m = /^(\s*)(?:- )?expr:\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, indent, value] = m as unknown as [string, string, string];
    if (!/^[|>]/.test(value)) {
      exprs.push(value);
      continue;
    }
    const block: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() && next.search(/\S/) <= indent.length) break;
      block.push(next.trim());
    }
    exprs.push(block.join(' '));
  }
  return exprs;
}

describe('Prometheus rules', () => {
  it('pass promtool check rules', async () => {
    const { code, output } = await promtool('check', 'rules', 'alerts/prometheus/relay.rules.yml');
    expect(code, output).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', async () => {
    const { code, output } = await promtool('test', 'rules', 'alerts/prometheus/relay.rules.test.yml');
    expect(code, output).toBe(0);
  });

  it('read only documented metrics and labels, and so do their tests', () => {
    const exprs = ruleExpressions('alerts/prometheus/relay.rules.yml');
    expect(exprs.length).toBeGreaterThan(10);
    const test = readFileSync(path.join(ROOT, 'alerts/prometheus/relay.rules.test.yml'), 'utf8');
    const series = [...test.matchAll(/series:\s*'([^']+)'/g)].map((m) => m[1]!);
    expect(series.length).toBeGreaterThan(10);
    const problems = [...exprs, ...series].flatMap((expr) => undocumented(expr).map((p) => `${p}: ${expr}`));
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('give every alert a severity and a case where it fires and one where it does not', () => {
    const rules = readFileSync(path.join(ROOT, 'alerts/prometheus/relay.rules.yml'), 'utf8');
    const alerts = [...rules.matchAll(/- alert:\s*(\w+)/g)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThan(10);
    expect([...rules.matchAll(/severity:\s*(\w+)/g)].map((m) => m[1])).toEqual(
      alerts.map(() => expect.stringMatching(/^(critical|warning|info)$/)),
    );

    const test = readFileSync(path.join(ROOT, 'alerts/prometheus/relay.rules.test.yml'), 'utf8');
    // Each case: `alertname: X` followed by `exp_alerts: []` (silent) or `exp_alerts:` and a list (fires).
    const cases = [...test.matchAll(/alertname:\s*(\w+)\s*\n\s*exp_alerts:\s*(\[\])?/g)];
    const missing = alerts.flatMap((alert) => {
      const mine = cases.filter((c) => c[1] === alert);
      return [
        ...(mine.some((c) => !c[2]) ? [] : [`${alert} never fires`]),
        ...(mine.some((c) => c[2]) ? [] : [`${alert} is never silent`]),
      ];
    });
    expect(missing).toEqual([]);
  });
});

describe('Prometheus config', () => {
  it('passes promtool check config, its rule files found', async () => {
    const { code, output } = await promtool('check', 'config', 'ops/prometheus.yml');
    expect(code, output).toBe(0);
    expect(output).toContain('relay.rules.yml');
  });
});

describe('Grafana dashboards', () => {
  const dashboards = loadDashboards();

  it('are the four shipped ones, each with its own uid', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['accounts.json', 'money.json', 'nodes.json', 'overview.json']);
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(uids.every((uid) => typeof uid === 'string' && uid.length > 0)).toBe(true);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each(dashboards)('$file has the datasource, node and platform variables', ({ dashboard }) => {
    const vars = new Map((dashboard.templating?.list ?? []).map((v) => [v.name, v]));
    expect(vars.get('datasource')?.type).toBe('datasource');
    for (const name of ['node', 'platform']) {
      expect(vars.get(name), name).toMatchObject({ type: 'query', multi: true, includeAll: true });
    }
    expect(vars.get('node')?.definition).toBe('label_values(relay_build_info, instance)');
    expect(vars.get('platform')?.definition).toBe('label_values(relay_requests_total, platform)');
  });

  it.each(dashboards)('$file: panels have unique ids, a title, a place and their queries', ({ dashboard }) => {
    const panels = allPanels(dashboard);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      const where = `panel ${panel.id} (${panel.title})`;
      expect(panel.title, where).toBeTruthy();
      expect(panel.gridPos, where).toBeDefined();
      expect(panel.gridPos!.x + panel.gridPos!.w, where).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource, where).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, where).toBeGreaterThan(0);
      const refIds = panel.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, where).toBe(refIds.length);
      for (const target of panel.targets!) {
        expect(target.expr, where).toBeTruthy();
        expect(target.refId, where).toBeTruthy();
      }
    }
    const visible = (dashboard.panels ?? []).map((p) => p.gridPos!);
    const overlaps = visible.flatMap((a, i) =>
      visible
        .slice(i + 1)
        .filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
        .map((b) => `${JSON.stringify(a)} / ${JSON.stringify(b)}`),
    );
    expect(overlaps).toEqual([]);
  });

  it('query only documented metrics and labels, with nothing left to substitute', () => {
    const exprs = dashboardExpressions();
    expect(exprs.length).toBeGreaterThan(40);
    const problems = exprs.flatMap(({ dashboard, panel, expr }) => {
      const concrete = concreteExpr(expr);
      const mine = undocumented(concrete);
      if (concrete.includes('$')) mine.push('an unknown $ variable');
      return mine.map((p) => `${dashboard} / ${panel}: ${p} in ${expr}`);
    });
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('concreteExpr fills in what Grafana would', () => {
    expect(
      concreteExpr(
        'sum(rate(relay_requests_total{instance=~"$node", platform=~"${platform}"}[$__rate_interval])) / sum(increase(x[$__range])) + y[$__interval]',
      ),
    ).toBe('sum(rate(relay_requests_total{instance=~".*", platform=~".*"}[1m])) / sum(increase(x[5m])) + y[15s]');
  });
});
