import { HISTORY_STEPS, MAX_POINTS, listNodes, readHistory, type HistoryStep } from '../usage/history.js';
import { ok } from './route-kit.js';
import type { AdminDeps, Authed, Route } from './types.js';
import { invalid } from './validate.js';

/** A node silent for three heartbeats (its primary writes one every 10 s) is down. */
const NODE_DOWN_AFTER_MS = 30_000;

/** The deployment itself: its nodes, and its recent history (docs/OBSERVABILITY.md). */
export function registerSystemRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  route(
    'get',
    '/admin/system/nodes',
    authed(async () => {
      const now = deps.clock.now();
      const items = await listNodes(deps.store, now, NODE_DOWN_AFTER_MS);
      return ok({
        items,
        up: items.filter((n) => n.status === 'up').length,
        down: items.filter((n) => n.status === 'down').length,
      });
    }),
  );

  route(
    'get',
    '/admin/system/metrics',
    authed(async (ctx) => {
      const stepName = ctx.query.get('step') ?? 'minute';
      if (!(stepName in HISTORY_STEPS)) throw invalid('step must be minute or hour');
      const step = stepName as HistoryStep;
      const now = deps.clock.now();
      const to = time(ctx.query.get('to'), 'to') ?? now;
      const from = time(ctx.query.get('from'), 'from') ?? to - 60 * HISTORY_STEPS[step];
      if (from > to) throw invalid('from must not be after to');
      if ((to - from) / HISTORY_STEPS[step] >= MAX_POINTS[step])
        throw invalid(`at most ${MAX_POINTS[step]} points of a ${step}: narrow from and to, or use a longer step`);
      const node = ctx.query.get('node') ?? undefined;
      if (node !== undefined && !/^[\w.:-]{1,200}$/.test(node)) throw invalid('node is not a node id');
      const points = await readHistory(deps.store, { from, to, step, node });
      return ok({
        step,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        node: node ?? null,
        points,
      });
    }),
  );
}

/** An ISO time or epoch milliseconds. */
function time(raw: string | null, name: string): number | undefined {
  if (raw === null || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw invalid(`${name} must be an ISO time or epoch milliseconds`);
  return ms;
}
