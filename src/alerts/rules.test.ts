import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPatch, loadRulesFile, parseRules, RuleError, ruleFrom } from './rules.js';
import { SIGNAL_NAMES } from './signals/index.js';

const shipped = path.resolve(import.meta.dirname, '..', '..', 'alerts', 'rules.yml');
const base = { id: 'x', name: 'X', category: 'system', signal: 'redis_down', op: '==', threshold: 1, severity: 'P1' };

describe('alert rules', () => {
  it('ships rules for every class the product promises', () => {
    const rules = loadRulesFile(shipped);
    const ids = rules.map((r) => r.id);
    for (const id of [
      'error_ratio_high',
      'ttfb_p95_slow',
      'requests_hanging',
      'event_loop_lag',
      'cpu_high',
      'memory_high',
      'account_unauthorized',
      'account_refresh_failed',
      'account_rate_limited',
      'pool_low',
      'pool_empty',
      'subscription_expiring',
      'key_budget_80',
      'key_budget_100',
      'cost_anomaly',
      'token_spike',
      'usage_write_failures',
      'redis_down',
      'redis_slow',
      'redis_memory_high',
      'disk_low',
      'node_missing',
      'worker_crash_loop',
      'invalid_keys_burst',
      'admin_login_failures',
      'key_many_addresses',
    ])
      expect(ids).toContain(id);
    expect(new Set(rules.map((r) => r.category))).toEqual(new Set(['performance', 'business', 'system', 'security']));
    // Every signal is used by a shipped rule (a signal nobody reads is dead code).
    expect(new Set(rules.map((r) => r.signal))).toEqual(new Set(SIGNAL_NAMES));
    const errorRatio = rules.find((r) => r.id === 'error_ratio_high');
    expect(errorRatio).toMatchObject({ threshold: 0.05, windowMs: 300_000, min: 20, forMs: 600_000, severity: 'P1' });
  });

  it('reads severities by name and durations with units', () => {
    expect(ruleFrom({ ...base, severity: 'critical', for: '90s', cooldown: '2h' })).toMatchObject({
      severity: 'P0',
      forMs: 90_000,
      cooldownMs: 7_200_000,
      channels: ['*'],
      enabled: true,
    });
    expect(ruleFrom({ ...base, severity: 'info' }).severity).toBe('P3');
  });

  it('refuses what cannot work, naming the rule and the field', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ ...base, signal: 'nope' }, 'signal'],
      [{ ...base, op: '!=' }, 'op'],
      [{ ...base, severity: 'P9' }, 'severity'],
      [{ ...base, for: '10' }, 'for'],
      [{ ...base, threshold: 'high' }, 'threshold'],
      [{ ...base, channels: 'email' }, 'channels'],
      [{ ...base, id: 'Bad Id' }, 'id'],
    ];
    for (const [raw, field] of bad) {
      expect(() => ruleFrom(raw), field).toThrow(RuleError);
      try {
        ruleFrom(raw);
      } catch (err) {
        expect((err as RuleError).field).toBe(field);
      }
    }
    expect(() => parseRules('- ' + JSON.stringify(base) + '\n- ' + JSON.stringify(base))).toThrow(/appears twice/);
  });

  it('patches only the changeable fields', () => {
    const r = ruleFrom(base);
    expect(applyPatch(r, { threshold: 3, for: '5m', enabled: false })).toMatchObject({
      threshold: 3,
      forMs: 300_000,
      enabled: false,
    });
    expect(() => applyPatch(r, { signal: 'error_ratio' } as never)).toThrow(/cannot be changed/);
    expect(() => applyPatch(r, { severity: 'urgent' })).toThrow(RuleError);
  });
});
