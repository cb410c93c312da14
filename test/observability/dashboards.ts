import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: promtool and the file readers below resolve paths from it. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DASHBOARD_DIR = path.join(ROOT, 'grafana/dashboards');

export interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}

export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  /** A collapsed row keeps its panels here. */
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  multi?: boolean;
  includeAll?: boolean;
  definition?: string;
}

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

/** Every dashboard under grafana/dashboards/, by file name. */
export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as Dashboard,
    }));
}

/** The dashboard's panels, with those inside rows (collapsed or not) in their place. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Every query of every panel, as Grafana sends it before template substitution. */
export function dashboardExpressions(): { dashboard: string; panel: string; expr: string }[] {
  return loadDashboards().flatMap(({ file, dashboard }) =>
    allPanels(dashboard).flatMap((panel) =>
      (panel.targets ?? []).flatMap((target) =>
        target.expr ? [{ dashboard: file, panel: panel.title ?? `panel ${panel.id}`, expr: target.expr }] : [],
      ),
    ),
  );
}

/**
 * The expression as Prometheus would receive it from Grafana with every node and platform
 * selected and a short time range, so that it can be checked against a live Prometheus.
 */
export function concreteExpr(expr: string): string {
  return expr
    .replace(/\$\{?(node|platform)(:\w+)?\}?/g, '.*')
    .replace(/\$__rate_interval\b/g, '1m')
    .replace(/\$__range\b/g, '5m')
    .replace(/\$__interval\b/g, '15s');
}
