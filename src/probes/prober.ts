import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { HEALTHY } from '../accounts/health.js';
import type { Account } from '../accounts/service.js';
import type { AccountId } from '../ids.js';
import { picoToUsd } from '../usage/pricing.js';
import { modelFamily } from '../util/models.js';
import {
  detailOf,
  nextStreak,
  outcomeOf,
  passiveDisableReason,
  passiveVerdict,
  probeDisableReason,
  verdict,
  type Streak,
} from './decide.js';
import { createProbeRecords, HISTORY_CAP } from './records.js';
import { dueAt, probeable, selectProbes, type Candidate } from './select.js';
import { sendProbe, type Sent } from './send.js';
import { ProbeBusy, type Prober, type ProberDeps, type ProbeResult, type ProbeWhy } from './types.js';

/** The lock outlives the probe's own bound (an OAuth retry after a 401 is a second request). */
const lockMsFor = (timeoutMs: number) => 2 * timeoutMs + 5_000;

/**
 * Active account health. A probe is one minimal real request through the account's provider; what
 * it says (decide.ts) goes into the shared health state: an unauthorized mark at once, a cooldown
 * after a 429, and after PROBE_FAILURES failures in a row an automatic disable, which
 * PROBE_RECOVERIES successes in a row undo. A tick also takes out accounts whose real traffic fails
 * too often, and then probes them back. Nothing here touches an account's `active` setting: an
 * account an admin disabled is never probed by a tick and never re-enabled. Every automatic change
 * is logged and emitted as an event, naming who made it (`by`) and the node.
 */
export function createProber(deps: ProberDeps): Prober {
  const { health, events, clock, log, config: cfg, node } = deps;
  const records = createProbeRecords(deps.store);

  const who = (account: Account) => ({ accountId: account.id, accountName: account.name, node });

  /** The probe's consequences in the shared health state; what it changed, if anything. */
  async function apply(account: Account, sent: Sent, r: ProbeResult, streak: Streak) {
    const now = clock.now();
    switch (r.outcome) {
      case 'ok':
        await health.recovered(account.id);
        break;
      case 'unauthorized':
        if (sent.end.kind !== 'answered') break; // a refused refresh token was marked by the token manager
        await health.markUnauthorized(account.id, sent.end.status, `probe: ${r.detail}`);
        log.warn('account out of rotation', { ...who(account), reason: 'unauthorized', by: 'probe', detail: r.detail });
        events.emit('account.unauthorized', {
          ...who(account),
          status: sent.end.status,
          message: r.detail,
          by: 'probe',
        });
        break;
      case 'rate_limited': {
        const { rateLimitMs, maxMs } = deps.cooldown;
        const until = Math.min(sent.resetAt && sent.resetAt > now ? sent.resetAt : now + rateLimitMs, now + maxMs);
        const scope = modelFamily(r.model);
        await health.coolDown(account.id, { scope, until, reason: 'rate_limited', status: r.status ?? 429 });
        events.emit('account.rate_limited', {
          ...who(account),
          scope,
          until,
          fromHeader: sent.resetAt !== undefined,
          by: 'probe',
        });
        break;
      }
      default:
        break;
    }
    const wanted = verdict(streak, r.outcome, cfg);
    if (wanted === 'disable') {
      const reason = probeDisableReason(streak.failures, r.detail);
      if (!(await health.autoDisable(account.id, { by: 'probe', reason }))) return undefined;
      log.warn('account out of rotation', { ...who(account), reason: 'auto_disabled', by: 'probe', why: reason });
      events.emit('account.auto_disabled', { ...who(account), by: 'probe', reason });
      return 'auto_disabled' as const;
    }
    if (wanted === 'enable') {
      if (!(await health.autoEnable(account.id))) return undefined;
      const reason = `${streak.successes} successful probes in a row`;
      await records.markEnabled(account.id, now);
      log.info('account back in rotation', { ...who(account), reason: 'auto_enabled', by: 'probe', why: reason });
      events.emit('account.auto_enabled', { ...who(account), by: 'probe', reason });
      return 'auto_enabled' as const;
    }
    return undefined;
  }

  async function probeLocked(account: Account, why: ProbeWhy): Promise<ProbeResult> {
    const atMs = clock.now();
    const started = performance.now();
    const sent = await sendProbe(deps, account, cfg.timeoutMs);
    const latencyMs = Math.round(performance.now() - started);
    const outcome = outcomeOf(sent.end);
    const price = deps.pricing().cost(sent.model, sent.usage);
    const u = sent.usage;
    const result: ProbeResult = {
      id: randomBytes(8).toString('hex'),
      accountId: account.id,
      at: new Date(atMs).toISOString(),
      status: sent.end.kind === 'answered' ? sent.end.status : null,
      latencyMs,
      outcome,
      why,
      node,
      model: sent.model,
      tokens: u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheCreate5mTokens + u.cacheCreate1hTokens,
      cost: picoToUsd(price.costPico),
      costPico: String(price.costPico),
      detail: detailOf(sent.end, cfg.timeoutMs),
    };
    const streak = nextStreak(await records.read(account.id), outcome);
    const change = await apply(account, sent, result, streak);
    if (change) result.change = change;
    await records.record(result, atMs, streak, u, price.costPico);
    if (outcome !== 'ok' && outcome !== 'rate_limited') {
      events.emit('account.probe_failed', {
        ...who(account),
        outcome,
        status: result.status,
        detail: result.detail,
        why,
        failures: streak.failures,
      });
    }
    log.info('account probed', {
      ...who(account),
      why,
      outcome,
      status: result.status,
      latencyMs,
      detail: result.detail,
    });
    return result;
  }

  async function probeNow(account: Account, why: ProbeWhy): Promise<ProbeResult> {
    const release = await records.lock(account.id, lockMsFor(cfg.timeoutMs));
    if (!release) throw new ProbeBusy(account.id);
    try {
      return await probeLocked(account, why);
    } finally {
      await release().catch((err: unknown) =>
        log.warn('probe lock not released; it will expire', { accountId: account.id, err }),
      );
    }
  }

  /** Takes out accounts whose real traffic in PASSIVE_WINDOW fails too often (each once). */
  async function passive(
    candidates: Candidate[],
    accounts: Map<AccountId, Account>,
    enabledAt: Map<AccountId, number>,
  ) {
    const now = clock.now();
    for (const c of candidates) {
      const t = c.passive;
      if (!t || c.health.autoDisabled || !probeable(c.account, c.health) || !passiveVerdict(t, cfg)) continue;
      // Traffic from before probes brought it back says nothing of it now.
      if ((enabledAt.get(c.account.id) ?? 0) > now - cfg.passiveWindowMs) continue;
      const account = accounts.get(c.account.id) as Account;
      const reason = passiveDisableReason(t, cfg.passiveWindowMs);
      if (!(await health.autoDisable(account.id, { by: 'error_ratio', reason }))) continue;
      await records.resetSuccesses(account.id);
      c.health = { ...c.health, autoDisabled: { at: now, by: 'error_ratio', reason } };
      log.warn('account out of rotation', { ...who(account), reason: 'auto_disabled', by: 'error_ratio', why: reason });
      events.emit('account.auto_disabled', { ...who(account), by: 'error_ratio', reason });
    }
  }

  async function run(): Promise<void> {
    if (!cfg.enabled) return;
    const now = clock.now();
    const list = await deps.accounts.list();
    const ids = list.map((a) => a.id);
    const [healths, recs, inWindow] = await Promise.all([
      Promise.all(ids.map((id) => health.get(id))),
      records.readMany(ids),
      deps.traffic.trafficOf(ids, cfg.passiveWindowMs, now),
    ]);
    const seen = cfg.idleMs > cfg.passiveWindowMs ? await deps.traffic.trafficOf(ids, cfg.idleMs, now) : inWindow;
    const candidates: Candidate[] = list.map((account, i) => ({
      account,
      health: healths[i] ?? HEALTHY,
      passive: inWindow.get(account.id),
      lastSeenAt: seen.get(account.id)?.lastSeenAt ?? null,
      lastProbeAt: recs[i]?.lastProbeAt ?? null,
    }));
    const byId = new Map(list.map((a) => [a.id, a]));
    const enabledAt = new Map(ids.map((id, i) => [id, recs[i]?.enabledAt ?? 0]));
    await passive(candidates, byId, enabledAt);
    const due = selectProbes(candidates, now, cfg);
    await inPool(due, cfg.concurrency, async ({ id, why }) => {
      try {
        await probeNow(byId.get(id) as Account, why);
      } catch (err) {
        if (err instanceof ProbeBusy) return;
        log.warn('probe could not run', { accountId: id, err });
      }
    });
  }

  let running: Promise<void> | null = null;

  return {
    probeNow,
    tick() {
      // One tick at a time in this process; a second call waits for the running one.
      running ??= run().finally(() => {
        running = null;
      });
      return running;
    },
    history: (id, limit = 50) => records.history(id, Math.min(Math.max(1, limit), HISTORY_CAP)),
    totals: (id) => records.totals(id),
    async state(account) {
      const [rec, h] = await Promise.all([records.read(account.id), health.get(account.id)]);
      const due = dueAt(account, rec.lastProbeAt, cfg);
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      return {
        consecutiveFailures: rec.failures,
        consecutiveSuccesses: rec.successes,
        autoDisabled: h.autoDisabled ? { ...h.autoDisabled, at: new Date(h.autoDisabled.at).toISOString() } : null,
        lastProbeAt: iso(rec.lastProbeAt),
        nextProbeAt: cfg.enabled && probeable(account, h) ? iso(due ?? clock.now()) : null,
      };
    },
  };
}

/** Runs `work` over `items`, at most `n` at once. */
async function inPool<T>(items: readonly T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  await Promise.all(lanes);
}
