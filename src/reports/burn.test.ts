import { describe, expect, it } from 'vitest';
import { burn } from './burn.js';

const AT = Date.parse('2026-11-15T12:00:00Z');
const H = 3_600_000;
const T = 1_000_000_000_000n;

describe('burn (when a cost limit is reached at a pace)', () => {
  it('projects the instant from what is left over the pace, before the reset', () => {
    // $0.40 left at $0.10 an hour: four hours.
    const b = burn('daily', 1, (6n * T) / 10n, 1e11 / H, AT, AT + 12 * H);
    expect(b).toMatchObject({ reached: false, projectedAt: '2026-11-15T16:00:00.000Z' });
    expect(b.used).toEqual({ cost: 0.6, costPico: '600000000000' });
  });

  it('is null when the limit resets first or nothing is spent, and now once reached', () => {
    expect(burn('weekly', 1, 0n, 1e11 / H, AT, AT + 10 * H).projectedAt).toBeNull();
    expect(burn('total', 1, 0n, 0, AT, null).projectedAt).toBeNull();
    expect(burn('total', 1, T, 0, AT, null)).toMatchObject({ reached: true, projectedAt: new Date(AT).toISOString() });
  });
});
