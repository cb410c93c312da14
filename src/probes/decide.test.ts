import { describe, expect, it } from 'vitest';
import {
  detailOf,
  nextStreak,
  outcomeOf,
  passiveDisableReason,
  passiveVerdict,
  probeDisableReason,
  verdict,
  type ProbeEnd,
  type ProbeOutcome,
} from './decide.js';

describe('outcomeOf', () => {
  it.each<[string, ProbeEnd, ProbeOutcome]>([
    ['200', { kind: 'answered', status: 200 }, 'ok'],
    ['401', { kind: 'answered', status: 401, errorClass: 'unauthorized' }, 'unauthorized'],
    ['403', { kind: 'answered', status: 403, errorClass: 'unauthorized' }, 'unauthorized'],
    ['429', { kind: 'answered', status: 429, errorClass: 'rate_limited' }, 'rate_limited'],
    ['529', { kind: 'answered', status: 529, errorClass: 'overloaded' }, 'transient'],
    ['503', { kind: 'answered', status: 503, errorClass: 'server_error' }, 'transient'],
    ['400', { kind: 'answered', status: 400, errorClass: 'client_error' }, 'error'],
    ['timeout', { kind: 'timeout' }, 'transient'],
    ['unreachable', { kind: 'unreachable' }, 'transient'],
    ['token endpoint down', { kind: 'auth_unavailable' }, 'transient'],
    ['refresh token rejected', { kind: 'no_credentials' }, 'unauthorized'],
    ['cannot generate', { kind: 'unsupported' }, 'error'],
  ])('%s → %s', (_name, end, outcome) => {
    expect(outcomeOf(end)).toBe(outcome);
  });

  it('says status and class, never upstream words', () => {
    expect(detailOf({ kind: 'answered', status: 503, errorClass: 'server_error' }, 30_000)).toBe(
      'HTTP 503 (server_error)',
    );
    expect(detailOf({ kind: 'answered', status: 200 }, 30_000)).toBe('HTTP 200');
    expect(detailOf({ kind: 'timeout' }, 30_000)).toBe('timeout (no answer within 30 s)');
  });
});

describe('streaks and verdicts', () => {
  const cfg = { failuresToDisable: 3, successesToEnable: 2 };
  const run = (outcomes: ProbeOutcome[]) => {
    let s = { failures: 0, successes: 0 };
    const verdicts = outcomes.map((o) => {
      s = nextStreak(s, o);
      return verdict(s, o, cfg);
    });
    return { s, verdicts };
  };

  it('three transient failures in a row disable; two successes enable', () => {
    expect(run(['transient', 'transient', 'transient', 'ok', 'ok']).verdicts).toEqual([
      null,
      null,
      'disable',
      null,
      'enable',
    ]);
  });

  it('a success between failures starts the count again', () => {
    expect(run(['transient', 'transient', 'ok', 'transient', 'transient']).verdicts).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('a 429 is neither a failure nor a success', () => {
    const { s, verdicts } = run(['transient', 'transient', 'rate_limited', 'rate_limited', 'transient']);
    expect(verdicts.at(-1)).toBe('disable');
    expect(s).toEqual({ failures: 3, successes: 0 });
    expect(run(['ok', 'rate_limited']).s).toEqual({ failures: 0, successes: 1 });
    expect(run(['ok', 'rate_limited', 'ok']).verdicts.at(-1)).toBe('enable');
  });

  it('a refused probe (4xx) or 401 breaks a run of successes, and is no failure', () => {
    expect(run(['ok', 'error', 'ok']).verdicts.at(-1)).toBeNull();
    expect(run(['transient', 'unauthorized']).s).toEqual({ failures: 1, successes: 0 });
  });

  it('reasons are plain words with numbers', () => {
    expect(probeDisableReason(3, 'HTTP 503 (server_error)')).toBe('3 failed probes in a row (HTTP 503 (server_error))');
    expect(passiveDisableReason({ requests: 12, errors: 9 }, 300_000)).toBe(
      '9 of 12 requests failed in 5 min (75% errors)',
    );
  });
});

describe('passiveVerdict', () => {
  const cfg = { passiveMinRequests: 10, passiveErrorPercent: 50 };
  it.each([
    [{ requests: 10, errors: 5 }, true],
    [{ requests: 20, errors: 19 }, true],
    [{ requests: 10, errors: 4 }, false],
    [{ requests: 9, errors: 9 }, false],
    [{ requests: 0, errors: 0 }, false],
  ])('%o → %s', (t, out) => {
    expect(passiveVerdict(t, cfg)).toBe(out);
  });
});
