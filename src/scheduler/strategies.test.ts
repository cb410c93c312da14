import { describe, expect, it } from 'vitest';
import type { Account } from '../accounts/service.js';
import { STRATEGIES, type Strategy } from '../accounts/groups.js';
import type { AccountId } from '../ids.js';
import { createStrategyState, type LoadSignals } from './strategies.js';

/** A full account with neutral defaults; tests override what they look at. */
function account(id: string, over: Partial<Account> = {}): Account {
  return {
    id: id as AccountId,
    platform: 'claude',
    type: 'api-key',
    name: id,
    description: '',
    baseUrl: 'https://api.anthropic.com',
    priority: 50,
    active: true,
    schedulable: true,
    shared: true,
    backup: false,
    weight: 1,
    maxConcurrency: 0,
    models: [],
    modelMapping: {},
    subscriptionExpiresAt: null,
    probe: true,
    probeIntervalMs: null,
    options: {},
    createdAt: 0,
    updatedAt: 0,
    lastUsedAt: null,
    credentials: {},
    ...over,
  };
}

interface Loads {
  lastPick?: Record<string, number>;
  inFlight?: Record<string, number>;
  ttfb?: Record<string, number>;
}

/** Fixed load signals: never picked (0), nothing in flight, never measured, unless given. */
function signals(l: Loads = {}): LoadSignals {
  return {
    lastPick: (id) => l.lastPick?.[id] ?? 0,
    inFlight: (id) => l.inFlight?.[id] ?? 0,
    ttfb: (id) => l.ttfb?.[id],
  };
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

const names = (picks: readonly Account[]) => picks.map((a) => a.id as string);

function counts(picks: readonly Account[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of picks) out[a.id] = (out[a.id] ?? 0) + 1;
  return out;
}

function longestRun(seq: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  let run = 0;
  seq.forEach((id, i) => {
    run = i > 0 && seq[i - 1] === id ? run + 1 : 1;
    out[id] = Math.max(out[id] ?? 0, run);
  });
  return out;
}

const [A, B, C, D, E] = ['a_a', 'a_b', 'a_c', 'a_d', 'a_e'].map((id) => account(id)) as [
  Account,
  Account,
  Account,
  Account,
  Account,
];

describe('any strategy', () => {
  it.each(STRATEGIES)('%s: a single candidate is returned as is', (strategy) => {
    const only = account('a_only', { weight: 7 });
    const state = createStrategyState();
    // Signals that would make it the worst choice, were there a choice.
    const s = signals({ lastPick: { a_only: 1e12 }, inFlight: { a_only: 99 }, ttfb: { a_only: 99_999 } });
    for (let i = 0; i < 5; i++) expect(state.choose(strategy, 'p', [only], s)).toBe(only);
  });

  it.each(STRATEGIES)('%s: returns one of the candidates passed in', (strategy) => {
    const state = createStrategyState();
    const pool = [A, B, C];
    for (let i = 0; i < 20; i++)
      expect(pool).toContain(
        state.choose(strategy, 'p', pool, signals({ lastPick: { a_a: i % 3 }, ttfb: { a_a: 10, a_b: 20, a_c: 30 } })),
      );
  });
});

describe('round-robin', () => {
  it.each([2, 3, 5])('is exactly even over N*k picks (N = %i)', (n) => {
    const pool = [A, B, C, D, E].slice(0, n);
    const state = createStrategyState();
    const k = 37;
    const picks = Array.from({ length: n * k }, () => state.choose('round-robin', 'p', pool, signals()));
    expect(Object.values(counts(picks))).toEqual(Array.from({ length: n }, () => k));
    // Not merely even in total: every window of N consecutive picks holds each account once.
    for (let i = 0; i + n <= picks.length; i += n) expect(new Set(picks.slice(i, i + n)).size).toBe(n);
  });

  it('stays even when candidates come in a different order on every call', () => {
    const state = createStrategyState();
    const orders = permutations([A, B, C]);
    const picks = Array.from({ length: 3 * 60 }, (_, i) =>
      state.choose('round-robin', 'p', orders[i % orders.length] as Account[], signals()),
    );
    expect(counts(picks)).toEqual({ a_a: 60, a_b: 60, a_c: 60 });
  });

  it('ignores load signals', () => {
    const state = createStrategyState();
    const busyA = signals({ inFlight: { a_a: 50 }, lastPick: { a_b: 0, a_a: 1e12 } });
    const picks = Array.from({ length: 4 }, () => state.choose('round-robin', 'p', [A, B], busyA));
    expect(counts(picks)).toEqual({ a_a: 2, a_b: 2 });
  });

  it('keeps one cursor per pool name', () => {
    const alone = createStrategyState();
    const expectedX = names(Array.from({ length: 12 }, () => alone.choose('round-robin', 'x', [A, B, C], signals())));

    const mixed = createStrategyState();
    const x: Account[] = [];
    const y: Account[] = [];
    for (let i = 0; i < 12; i++) {
      x.push(mixed.choose('round-robin', 'x', [A, B, C], signals()));
      y.push(mixed.choose('round-robin', 'y', [D, E], signals()));
      y.push(mixed.choose('round-robin', 'y', [D, E], signals()));
    }
    expect(names(x)).toEqual(expectedX);
    expect(counts(x)).toEqual({ a_a: 4, a_b: 4, a_c: 4 });
    expect(counts(y)).toEqual({ a_d: 12, a_e: 12 });
  });

  it('state is per createStrategyState()', () => {
    const s1 = createStrategyState();
    const s2 = createStrategyState();
    const first = s1.choose('round-robin', 'p', [A, B], signals());
    expect(s2.choose('round-robin', 'p', [A, B], signals())).toBe(first);
    expect(s1.choose('round-robin', 'p', [A, B], signals())).not.toBe(first);
  });
});

describe('weighted-round-robin', () => {
  const weighted = (id: string, weight: number) => account(id, { weight });

  it('weights 1, 2, 3 over 600 picks give exactly 100, 200, 300', () => {
    const state = createStrategyState();
    const pool = [weighted('a_1', 1), weighted('a_2', 2), weighted('a_3', 3)];
    const picks = Array.from({ length: 600 }, () => state.choose('weighted-round-robin', 'p', pool, signals()));
    expect(counts(picks)).toEqual({ a_1: 100, a_2: 200, a_3: 300 });
    // Exact at every full cycle of 6, too.
    for (let i = 0; i < 600; i += 6) expect(counts(picks.slice(i, i + 6))).toEqual({ a_1: 1, a_2: 2, a_3: 3 });
  });

  // nginx's smooth weighted round robin (each pick adds every weight to its running score, takes
  // the highest score, subtracts the total from the winner), worked by hand:
  //   5,1,1 → a a b a c a a;   1,2,3 → c b a c b c;   1,1,1 → a b c.
  // Ties go to the first account by id.
  it.each<[string, [string, number][], string]>([
    [
      '5,1,1',
      [
        ['a', 5],
        ['b', 1],
        ['c', 1],
      ],
      'aabacaa',
    ],
    [
      '1,2,3',
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ],
      'cbacbc',
    ],
    [
      '1,1,1',
      [
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ],
      'abc',
    ],
    [
      '3,1',
      [
        ['a', 3],
        ['b', 1],
      ],
      'aaba',
    ],
    [
      '2,2',
      [
        ['a', 2],
        ['b', 2],
      ],
      'ab',
    ],
  ])('is smooth: weights %s give the nginx sequence, cycle after cycle', (_name, spec, cycle) => {
    const pool = spec.map(([id, w]) => weighted(`a_${id}`, w));
    const state = createStrategyState();
    const seq = Array.from({ length: cycle.length * 10 }, () =>
      state.choose('weighted-round-robin', 'p', pool, signals()).id.slice(2),
    ).join('');
    expect(seq).toBe(cycle.repeat(10));
  });

  it('equal weights never pick one account twice in a row', () => {
    const state = createStrategyState();
    const seq = names(
      Array.from({ length: 300 }, () => state.choose('weighted-round-robin', 'p', [A, B, C, D], signals())),
    );
    expect(Math.max(...Object.values(longestRun(seq)))).toBe(1);
  });

  it('the heavy account is spread out: with 5,1,1 the light ones are never adjacent to each other', () => {
    const pool = [weighted('a_a', 5), weighted('a_b', 1), weighted('a_c', 1)];
    const state = createStrategyState();
    const seq = names(Array.from({ length: 700 }, () => state.choose('weighted-round-robin', 'p', pool, signals())));
    for (let i = 1; i < seq.length; i++) if (seq[i] !== 'a_a') expect(seq[i - 1], `pick ${i}`).toBe('a_a');
    expect(longestRun(seq)).toEqual({ a_a: 4, a_b: 1, a_c: 1 });
  });

  it('does not depend on the order candidates are passed in', () => {
    const pool = [weighted('a_a', 5), weighted('a_b', 1), weighted('a_c', 1)];
    const orders = permutations(pool);
    const state = createStrategyState();
    const seq = Array.from({ length: 70 }, (_, i) =>
      state.choose('weighted-round-robin', 'p', orders[i % orders.length] as Account[], signals()).id.slice(2),
    ).join('');
    expect(seq).toBe('aabacaa'.repeat(10));
  });

  it('keeps running scores per pool name', () => {
    const p = [weighted('a_a', 5), weighted('a_b', 1), weighted('a_c', 1)];
    const q = [weighted('a_d', 1), weighted('a_e', 2)];
    const state = createStrategyState();
    let seqP = '';
    let seqQ = '';
    for (let i = 0; i < 21; i++) {
      seqP += state.choose('weighted-round-robin', 'p', p, signals()).id.slice(2);
      seqQ += state.choose('weighted-round-robin', 'q', q, signals()).id.slice(2);
    }
    expect(seqP).toBe('aabacaa'.repeat(3));
    // 1,2 → e d e (hand-worked as above).
    expect(seqQ).toBe('ede'.repeat(7));
  });
});

describe('least-connections', () => {
  it.each<[string, Loads, string]>([
    ['the fewest in flight', { inFlight: { a_a: 3, a_b: 1, a_c: 2 } }, 'a_b'],
    ['zero beats any', { inFlight: { a_a: 1, a_b: 1, a_c: 0 } }, 'a_c'],
    [
      'in flight outranks recency',
      { inFlight: { a_a: 0, a_b: 1, a_c: 1 }, lastPick: { a_a: 9_000, a_b: 1, a_c: 2 } },
      'a_a',
    ],
    [
      'a tie goes to the least recently picked',
      { inFlight: { a_a: 1, a_b: 1, a_c: 5 }, lastPick: { a_a: 200, a_b: 100, a_c: 0 } },
      'a_b',
    ],
    [
      'a three-way tie goes to the least recently picked',
      { inFlight: { a_a: 2, a_b: 2, a_c: 2 }, lastPick: { a_a: 300, a_b: 200, a_c: 100 } },
      'a_c',
    ],
  ])('%s', (_name, loads, expected) => {
    for (const order of permutations([A, B, C])) {
      expect(
        createStrategyState().choose('least-connections', 'p', order, signals(loads)).id,
        names(order).join(),
      ).toBe(expected);
    }
  });

  it('a full tie gives the same account whatever the order', () => {
    const picks = permutations([A, B, C, D]).map(
      (order) => createStrategyState().choose('least-connections', 'p', order, signals()).id,
    );
    expect(new Set(picks).size).toBe(1);
  });
});

describe('fastest', () => {
  it.each<[string, Loads, string]>([
    ['the lowest mean TTFB', { ttfb: { a_a: 300, a_b: 120, a_c: 250 } }, 'a_b'],
    ['an unmeasured account first, however fast the others', { ttfb: { a_a: 1, a_c: 2 } }, 'a_b'],
    [
      'among unmeasured, the least recently picked',
      { ttfb: { a_b: 1 }, lastPick: { a_a: 50, a_c: 10, a_b: 0 } },
      'a_c',
    ],
    ['a measured 0 ms counts as measured', { ttfb: { a_a: 0, a_b: 5 }, lastPick: { a_c: 1e12 } }, 'a_c'],
    ['fractional means compare exactly', { ttfb: { a_a: 100.25, a_b: 100.5, a_c: 100.75 } }, 'a_a'],
    [
      'recency does not matter once all are measured',
      { ttfb: { a_a: 90, a_b: 80, a_c: 70 }, lastPick: { a_c: 1e12 } },
      'a_c',
    ],
  ])('%s', (_name, loads, expected) => {
    for (const order of permutations([A, B, C])) {
      expect(createStrategyState().choose('fastest', 'p', order, signals(loads)).id, names(order).join()).toBe(
        expected,
      );
    }
  });

  it('a tie in mean TTFB gives the same account whatever the order', () => {
    const loads = { ttfb: { a_a: 100, a_b: 100, a_c: 100, a_d: 100 } };
    const picks = permutations([A, B, C, D]).map(
      (order) => createStrategyState().choose('fastest', 'p', order, signals(loads)).id,
    );
    expect(new Set(picks).size).toBe(1);
  });
});

describe('least-recently-used', () => {
  it.each<[string, Loads, string]>([
    ['the minimum lastPick', { lastPick: { a_a: 30, a_b: 10, a_c: 20 } }, 'a_b'],
    ['never picked (0) first', { lastPick: { a_a: 30, a_b: 10 } }, 'a_c'],
    ['in flight does not matter', { lastPick: { a_a: 1, a_b: 2, a_c: 3 }, inFlight: { a_a: 100 } }, 'a_a'],
    ['TTFB does not matter', { lastPick: { a_a: 5, a_b: 2, a_c: 3 }, ttfb: { a_b: 9_999, a_a: 1 } }, 'a_b'],
  ])('%s', (_name, loads, expected) => {
    for (const order of permutations([A, B, C])) {
      expect(
        createStrategyState().choose('least-recently-used', 'p', order, signals(loads)).id,
        names(order).join(),
      ).toBe(expected);
    }
  });

  it('a tie gives the same account whatever the order', () => {
    const picks = permutations([A, B, C, D]).map(
      (order) => createStrategyState().choose('least-recently-used', 'p', order, signals()).id,
    );
    expect(new Set(picks).size).toBe(1);
  });

  it('rotates through the pool when each pick is recorded', () => {
    const state = createStrategyState();
    const last: Record<string, number> = {};
    const picks: Account[] = [];
    for (let t = 1; t <= 30; t++) {
      const a = state.choose('least-recently-used', 'p', [C, A, B], signals({ lastPick: last }));
      last[a.id] = t;
      picks.push(a);
    }
    expect(counts(picks)).toEqual({ a_a: 10, a_b: 10, a_c: 10 });
    for (let i = 0; i < 30; i += 3) expect(new Set(picks.slice(i, i + 3)).size).toBe(3);
  });
});

describe('strategies that read signals do not depend on the pool name or on earlier picks', () => {
  const loads = signals({
    inFlight: { a_a: 2, a_b: 1, a_c: 1 },
    lastPick: { a_a: 1, a_b: 3, a_c: 2 },
    ttfb: { a_a: 50, a_b: 40, a_c: 60 },
  });
  it.each<[Strategy, string]>([
    ['least-connections', 'a_c'],
    ['fastest', 'a_b'],
    ['least-recently-used', 'a_a'],
  ])('%s', (strategy, expected) => {
    const state = createStrategyState();
    for (const pool of ['p', 'q', 'p', 'r']) expect(state.choose(strategy, pool, [A, B, C], loads).id).toBe(expected);
  });
});
