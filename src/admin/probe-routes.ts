import type { Account } from '../accounts/service.js';
import { RelayError } from '../errors/catalogue.js';
import { ProbeBusy, type Prober, type ProbeResult } from '../probes/index.js';
import { accountIdParam, notFound, ok } from './route-kit.js';
import type { AdminDeps, Authed, Route } from './types.js';
import { invalid } from './validate.js';

/**
 * An account's probes (src/probes/): its recent probes with what they cost and its probe state
 * (`GET …/probes`), and one probe now (`POST …/probe`). `crs accounts probes|probe` answers the same.
 */

/** `crs` probes in its own process, as a worker does for POST …/probe: built from config and store alone. */
export { createProbeRuntime, type ProbeRuntime } from '../probes/index.js';

/** The `limit` of a probe history: 1..1000, 50 when absent. */
export function probeLimit(raw: string | null | undefined): number {
  if (raw === null || raw === undefined) return 50;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < 1 || n > 1000)
    throw invalid('limit: expected an integer from 1 to 1000.');
  return n;
}

/** GET /admin/accounts/:id/probes: newest first, with the running totals and the probe state. */
export async function probesReport(prober: Prober, account: Account, limit: number) {
  const [items, totals, state] = await Promise.all([
    prober.history(account.id, limit),
    prober.totals(account.id),
    prober.state(account),
  ]);
  return { id: account.id, name: account.name, items, totals, state };
}

/** One probe now; 409 while the account is being probed elsewhere (another node, or a tick). */
export async function probeOnce(prober: Prober, account: Account): Promise<ProbeResult> {
  try {
    return await prober.probeNow(account, 'manual');
  } catch (err) {
    if (err instanceof ProbeBusy)
      throw new RelayError('admin_conflict', {
        message: `Account ${account.id} is being probed right now (by this or another node); retry in a few seconds.`,
      });
    throw err;
  }
}

export function registerProbeRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  const load = async (id: Account['id']): Promise<Account> => {
    const account = await deps.accounts.get(id);
    if (!account) throw notFound();
    return account;
  };

  route(
    'get',
    '/admin/accounts/:id/probes',
    authed(async (ctx) => {
      const limit = probeLimit(ctx.query.get('limit'));
      return ok(await probesReport(deps.prober, await load(accountIdParam(ctx)), limit));
    }),
  );

  route(
    'post',
    '/admin/accounts/:id/probe',
    authed(async (ctx) => ok(await probeOnce(deps.prober, await load(accountIdParam(ctx))))),
  );
}
