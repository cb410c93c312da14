import { describe, expect, it } from 'vitest';
import { ruleFrom, type Rule } from './rules.js';
import { RESOLVED_KEPT_MS, renotifyAfterMs, step, type AlertState, type Observation } from './state.js';

const rule = (over: Record<string, unknown> = {}): Rule =>
  ruleFrom({
    id: 'r',
    name: 'R',
    category: 'business',
    signal: 'error_ratio',
    op: '>',
    threshold: 0.5,
    for: '1m',
    severity: 'P2',
    cooldown: '10m',
    ...over,
  });
const obs = (value: number, volume?: number): Observation => ({
  key: 'x',
  labels: { node: 'n1' },
  subject: 'node n1',
  value,
  ...(volume !== undefined ? { volume } : {}),
});

/** Steps one fingerprint through a list of (time, value) readings; returns the notices. */
function run(r: Rule, readings: [number, number | null][], silencedAt: (t: number) => boolean = () => false) {
  let state: AlertState | undefined;
  const notices: [number, string][] = [];
  for (const [t, v] of readings) {
    const { next, notice } = step(r, state, v === null ? undefined : obs(v), t, silencedAt(t), 'r|x');
    state = next ?? undefined;
    if (notice) notices.push([t, notice]);
  }
  return { state, notices };
}

const MIN = 60_000;

describe('alert state machine', () => {
  it('is pending for `for`, fires once, resolves once', () => {
    const { notices, state } = run(rule(), [
      [0, 0.9],
      [30_000, 0.9],
      [MIN, 0.9],
      [2 * MIN, 0.9],
      [3 * MIN, 0.1],
      [4 * MIN, 0.1],
    ]);
    expect(notices).toEqual([
      [MIN, 'firing'],
      [3 * MIN, 'resolved'],
    ]);
    expect(state?.status).toBe('resolved');
  });

  it('drops a pending alert whose condition stops before `for` without a word', () => {
    const { notices, state } = run(rule(), [
      [0, 0.9],
      [30_000, 0.1],
    ]);
    expect(notices).toEqual([]);
    expect(state).toBeUndefined();
  });

  it('fires at once with for: 0s', () => {
    expect(run(rule({ for: '0s' }), [[0, 0.9]]).notices).toEqual([[0, 'firing']]);
  });

  it('needs `min` volume before the value counts', () => {
    const r = rule({ for: '0s', min: 20 });
    expect(step(r, undefined, obs(0.9, 19), 0, false, 'r|x').notice).toBeUndefined();
    expect(step(r, undefined, obs(0.9, 20), 0, false, 'r|x').notice).toBe('firing');
  });

  it('does not announce a refiring within the cooldown, nor its resolve', () => {
    const r = rule({ for: '0s', cooldown: '10m' });
    const { notices } = run(r, [
      [0, 0.9],
      [MIN, 0.1],
      [2 * MIN, 0.9],
      [3 * MIN, 0.1],
      [12 * MIN, 0.9],
    ]);
    expect(notices).toEqual([
      [0, 'firing'],
      [MIN, 'resolved'],
      [12 * MIN, 'firing'],
    ]);
  });

  it('reminds of a still-firing alert after the severity interval', () => {
    const r = rule({ for: '0s', severity: 'P1' });
    const every = renotifyAfterMs('P1');
    expect(every).toBe(4 * 3_600_000);
    const { notices } = run(r, [
      [0, 0.9],
      [every - 1, 0.9],
      [every, 0.9],
      [2 * every, 0.9],
    ]);
    expect(notices).toEqual([
      [0, 'firing'],
      [every, 'reminder'],
      [2 * every, 'reminder'],
    ]);
    expect(renotifyAfterMs('P3')).toBe(24 * 3_600_000);
  });

  it('says nothing while silenced, and announces a still-firing alert when the silence ends', () => {
    const r = rule({ for: '0s' });
    const { notices } = run(
      r,
      [
        [0, 0.9],
        [MIN, 0.9],
        [2 * MIN, 0.9],
        [3 * MIN, 0.1],
      ],
      (t) => t < 2 * MIN,
    );
    expect(notices).toEqual([
      [2 * MIN, 'firing'],
      [3 * MIN, 'resolved'],
    ]);
  });

  it('a silenced alert that resolves sends no resolve', () => {
    const { notices } = run(
      rule({ for: '0s' }),
      [
        [0, 0.9],
        [MIN, 0.1],
      ],
      () => true,
    );
    expect(notices).toEqual([]);
  });

  it('forgets a resolved alert after it is kept long enough', () => {
    const r = rule({ for: '0s', cooldown: '0s' });
    const { state } = run(r, [
      [0, 0.9],
      [MIN, 0.1],
      [MIN + RESOLVED_KEPT_MS, 0.1],
    ]);
    expect(state).toBeUndefined();
  });

  it('compares with each operator', () => {
    const at = (op: string, threshold: number, v: number) =>
      step(rule({ op, threshold, for: '0s' }), undefined, obs(v), 0, false, 'f').notice === 'firing';
    expect([at('>', 1, 1), at('>=', 1, 1), at('<', 1, 0.5), at('<=', 1, 1), at('==', 0, 0), at('==', 0, 1)]).toEqual([
      false,
      true,
      true,
      true,
      true,
      false,
    ]);
  });
});
