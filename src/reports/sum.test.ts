import { describe, expect, it } from 'vitest';
import { sumColumns } from './sum.js';

describe('sumColumns (the summing both the event loop and the pool run)', () => {
  it('sums each group field by field, exactly past 2^53, with absent hashes and fields as 0', () => {
    const big = '9007199254740993'; // 2^53 + 1: a float would round it
    const out = sumColumns({
      fields: 2,
      groups: 3,
      owners: [0, 0, 2, 0],
      values: [big, '1', null, null, '5', '7', big, '2'],
    });
    expect(out).toEqual([
      ['18014398509481986', '3'],
      ['0', '0'],
      ['5', '7'],
    ]);
  });

  it('refuses a hash that names a group it was not given', () => {
    expect(() => sumColumns({ fields: 1, groups: 1, owners: [1], values: ['1'] })).toThrow(RangeError);
  });
});
