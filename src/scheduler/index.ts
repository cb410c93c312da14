import type { Group, GroupService, Strategy } from '../accounts/groups.js';
import { assess, type Blocker, type HealthService } from '../accounts/health.js';
import type { Account, AccountService, Platform } from '../accounts/service.js';
import type { AccountId } from '../ids.js';
import type { ApiKeyRecord } from '../keys/service.js';
import type { Lease, Leases } from '../leases/index.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import { explicitlySupports, modelFamily, upstreamModelFor } from '../util/models.js';
import type { Breakers } from './breakers.js';
import { explainAccount, staticBlocker, type Explanation } from './explain.js';
import type { LoadView } from './load.js';
import type { SessionRef } from './session.js';
import type { StickySessions } from './sticky.js';
import type { StrategyState } from './strategies.js';

export interface PickRequest {
  /** Platforms that may serve the request (the surface's, narrowed by the key's permissions). */
  platforms: readonly Platform[];
  /** The account can serve this surface's operation (it speaks a format the surface can bridge to). */
  serves(account: Account): boolean;
  /** The model the client asked for. */
  model: string;
  key: ApiKeyRecord;
  session: SessionRef | null;
  /** Accounts already tried in this request (failover moves on). */
  exclude: ReadonlySet<AccountId>;
  requestId: string;
}

export interface Pick {
  account: Account;
  /** The model to send upstream (after the account's mapping). */
  upstreamModel: string;
  /** The account's in-flight lease; release it when the call ends. */
  lease: Lease;
  sticky: boolean;
  /** For a request of a conversation: on its account, moved off it, or the conversation's first. */
  session?: 'hit' | 'moved' | 'new';
  tier: Tier;
}

/** Why a candidate could not take the request: its first blocker, or what else ruled it out. */
export type Unusable = Blocker['reason'] | 'model_not_served' | 'at_capacity' | 'already_tried';

export type PickResult =
  | { ok: true; pick: Pick }
  /**
   * Nothing routable. `retryAt`: when the earliest cooling candidate comes back (rate limits).
   * `candidates`: the accounts the key could use for this request at all; `unusable`: how many of
   * them were ruled out for each reason.
   */
  | {
      ok: false;
      reason: 'no_account' | 'all_cooling';
      retryAt: number | null;
      candidates: number;
      unusable: Partial<Record<Unusable, number>>;
    };

/** Blockers that pass by themselves (a cooldown or an open breaker), as opposed to an admin's doing. */
const PASSING: ReadonlySet<Blocker['reason']> = new Set([
  'rate_limited',
  'overloaded',
  'server_error',
  'breaker_open',
  'unreachable',
  'timeout',
]);

/**
 * Priority tiers, best first (the seed's order): healthy and lightly loaded; healthy and naming the
 * model explicitly; healthy; recoverable (breaker past its open period, not yet proven); backup.
 */
export const TIERS = ['light', 'explicit', 'healthy', 'recoverable', 'backup'] as const;
export type Tier = (typeof TIERS)[number];

export interface Scheduler {
  pick(req: PickRequest): Promise<PickResult>;
  /** Every account of the platform with whether it can take a request for `model` now, and why not. */
  explain(account: Account, model?: string): Promise<Explanation>;
  readonly load: LoadView;
}

export interface SchedulerDeps {
  store: Store;
  accounts: AccountService;
  groups: GroupService;
  health: HealthService;
  breakers: Breakers;
  load: LoadView;
  sticky: StickySessions;
  strategies: StrategyState;
  leases: Leases;
  clock: Clock;
  defaultStrategy: Strategy;
  /** With no concurrency cap, an account counts as lightly loaded below this many in flight. */
  lightLoadInFlight: number;
}

interface Stage {
  name: 'dedicated' | 'group' | 'pool';
  pool: string;
  strategy: Strategy;
  accounts: Account[];
}

/**
 * Candidates in order: accounts bound to the key (dedicated), then its groups, then the shared
 * pool of the platform. With bindings, the pool is used only if the key allows falling back.
 */
function stages(
  key: ApiKeyRecord,
  req: { platforms: PickRequest['platforms']; serves: PickRequest['serves'] },
  all: readonly Account[],
  groups: ReadonlyMap<string, Group>,
  defaultStrategy: Strategy,
): Stage[] {
  const byId = new Map(all.map((a) => [a.id as string, a]));
  const fits = (a: Account | undefined): a is Account => !!a && req.platforms.includes(a.platform) && req.serves(a);
  const out: Stage[] = [];
  const dedicated = key.accountIds.map((id) => byId.get(id)).filter(fits);
  if (dedicated.length > 0)
    out.push({ name: 'dedicated', pool: `key:${key.id}`, strategy: defaultStrategy, accounts: dedicated });
  for (const gid of key.groupIds) {
    const g = groups.get(gid);
    if (!g || !req.platforms.includes(g.platform)) continue;
    const members = g.accountIds.map((id) => byId.get(id)).filter(fits);
    if (members.length > 0)
      out.push({ name: 'group', pool: `group:${g.id}`, strategy: g.strategy ?? defaultStrategy, accounts: members });
  }
  const bound = key.accountIds.length > 0 || key.groupIds.length > 0;
  if (!bound || key.poolFallback) {
    out.push({
      name: 'pool',
      pool: `pool:${req.platforms.join('+')}`,
      strategy: defaultStrategy,
      accounts: all.filter((a) => a.shared && fits(a)),
    });
  }
  return out;
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { clock, load } = deps;

  interface Assessed {
    account: Account;
    upstreamModel: string;
    tier: Tier;
  }

  /** Whether the account can take this request now, and in which tier; else what blocks it. */
  const evaluate = async (
    a: Account,
    model: string,
    now: number,
  ): Promise<{ ok: Assessed } | { blockers: Blocker[]; why: Unusable }> => {
    const upstreamModel = upstreamModelFor(a, model);
    if (upstreamModel === undefined) return { blockers: [], why: 'model_not_served' };
    const fixed = staticBlocker(a, now);
    if (fixed) return { blockers: [fixed], why: fixed.reason };
    const { blockers, recoverable } = assess(await deps.health.get(a.id), modelFamily(model), now);
    const local = deps.breakers.state(a.id);
    if (local === 'open')
      blockers.push({ reason: 'breaker_open', scope: '*', until: null, detail: 'open in this worker' });
    const first = blockers[0];
    if (first) return { blockers, why: first.reason };
    const inFlight = load.inFlight(a.id);
    if (a.maxConcurrency > 0 && inFlight >= a.maxConcurrency) return { blockers: [], why: 'at_capacity' };
    const tier: Tier = a.backup
      ? 'backup'
      : recoverable || local === 'half-open'
        ? 'recoverable'
        : inFlight < (a.maxConcurrency > 0 ? Math.ceil(a.maxConcurrency * 0.8) : deps.lightLoadInFlight)
          ? 'light'
          : explicitlySupports(a, model)
            ? 'explicit'
            : 'healthy';
    return { ok: { account: a, upstreamModel, tier } };
  };

  /**
   * Holds a place on the account for this request. An account with a concurrency cap takes an
   * exact lease in Redis (refused when full); any other only counts in this worker's load, which
   * is published to the others.
   */
  const lease = async (a: Account, requestId: string): Promise<Lease | null> => {
    // Count the pick before awaiting anything: requests picked in the same moment must see it,
    // or they all choose the same "least used" account.
    load.picked(a.id);
    load.acquired(a.id);
    let held: Lease | null = null;
    if (a.maxConcurrency > 0) {
      held = await deps.leases.acquireAccount(a.id, requestId, a.maxConcurrency);
      if (!held) {
        load.released(a.id);
        return null;
      }
    }
    let released = false;
    return {
      id: requestId,
      release: async () => {
        if (released) return;
        released = true;
        load.released(a.id);
        await held?.release();
      },
    };
  };

  return {
    load,

    async pick(req) {
      const [all, groups] = await Promise.all([deps.accounts.snapshot(), deps.groups.snapshot()]);
      const plan = stages(req.key, req, all, groups, deps.defaultStrategy);
      const candidates = plan.flatMap((s) => s.accounts);
      load.touch(candidates.map((a) => a.id));
      const now = clock.now();
      let earliestRetry: number | null = null;
      let cooling = 0;
      const unusable: Partial<Record<Unusable, number>> = {};
      const ruledOut = (why: Unusable) => {
        unusable[why] = (unusable[why] ?? 0) + 1;
      };
      const evaluated = new Map<AccountId, Assessed | null>();
      const check = async (a: Account) => {
        if (evaluated.has(a.id)) return evaluated.get(a.id) ?? null;
        if (req.exclude.has(a.id)) {
          evaluated.set(a.id, null);
          ruledOut('already_tried');
          return null;
        }
        const r = await evaluate(a, req.model, now);
        if ('ok' in r) {
          evaluated.set(a.id, r.ok);
          return r.ok;
        }
        ruledOut(r.why);
        for (const b of r.blockers) {
          if (b.until !== null && PASSING.has(b.reason)) {
            cooling++;
            earliestRetry = earliestRetry === null ? b.until : Math.min(earliestRetry, b.until);
          }
        }
        evaluated.set(a.id, null);
        return null;
      };

      // The conversation's account, if it can still take it.
      let stuck: { accountId: AccountId; expiresAt: number } | null = null;
      if (req.session) {
        stuck = await deps.sticky.get(req.key.id, req.session.hash);
        const account = stuck ? candidates.find((a) => a.id === stuck?.accountId) : undefined;
        const ok = account ? await check(account) : null;
        if (ok) {
          const l = await lease(ok.account, req.requestId);
          if (l) {
            if (stuck && deps.sticky.needsRenewal(stuck.expiresAt))
              await deps.sticky.set(req.key.id, req.session.hash, ok.account.id);
            return {
              ok: true,
              pick: {
                account: ok.account,
                upstreamModel: ok.upstreamModel,
                lease: l,
                sticky: true,
                session: 'hit',
                tier: ok.tier,
              },
            };
          }
        }
      }

      for (const stage of plan) {
        const usable: Assessed[] = [];
        for (const a of stage.accounts) {
          const r = await check(a);
          if (r) usable.push(r);
        }
        while (usable.length > 0) {
          // best tier, then lowest priority number, then the stage's strategy
          const bestTier = Math.min(...usable.map((u) => TIERS.indexOf(u.tier)));
          const inTier = usable.filter((u) => TIERS.indexOf(u.tier) === bestTier);
          const bestPriority = Math.min(...inTier.map((u) => u.account.priority));
          const equals = inTier.filter((u) => u.account.priority === bestPriority);
          const chosen = deps.strategies.choose(
            stage.strategy,
            `${stage.pool}:${bestTier}:${bestPriority}`,
            equals.map((u) => u.account),
            load,
          );
          const assessed = equals.find((u) => u.account === chosen) as Assessed;
          const l = await lease(chosen, req.requestId);
          if (l) {
            if (req.session && stuck?.accountId !== chosen.id)
              await deps.sticky.set(req.key.id, req.session.hash, chosen.id);
            return {
              ok: true,
              pick: {
                account: chosen,
                upstreamModel: assessed.upstreamModel,
                lease: l,
                sticky: false,
                session: req.session ? (stuck ? 'moved' : 'new') : undefined,
                tier: assessed.tier,
              },
            };
          }
          // its concurrency cap filled up meanwhile: next one
          usable.splice(usable.indexOf(assessed), 1);
          ruledOut('at_capacity');
        }
      }
      // Every candidate is evaluated once, in the loops above or here, so the counts are whole.
      for (const a of new Set(candidates)) if (!evaluated.has(a.id)) await check(a);
      return {
        ok: false,
        reason: cooling > 0 ? 'all_cooling' : 'no_account',
        retryAt: earliestRetry,
        candidates: new Set(candidates.map((a) => a.id)).size,
        unusable,
      };
    },

    explain: (account, model) =>
      explainAccount(
        { store: deps.store, health: deps.health, leases: deps.leases, clock, breakers: deps.breakers, load },
        account,
        model,
      ),
  };
}
