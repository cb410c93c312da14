/**
 * The one summing function of reports, run on the event loop for small reads and on a pool
 * thread for large ones (sum-task.ts). It imports nothing, so a pool thread loads no Redis
 * client. Input and output are plain arrays: they cross to the thread and back by structured
 * clone.
 */
export interface SumInput {
  /** Fields per hash (the counter fields, in one fixed order). */
  fields: number;
  /** How many groups the hashes fall into. */
  groups: number;
  /** For each hash read, the group it adds to. */
  owners: number[];
  /** Each hash's field values, hash after hash (`owners.length × fields`); null: absent. */
  values: (string | null)[];
}

/**
 * Sums each group's hashes field by field, as BigInts (a cost in picodollars may pass 2^53), and
 * returns each group's totals as decimal strings.
 */
export function sumColumns(input: SumInput): string[][] {
  const { fields, groups, owners, values } = input;
  const acc = Array.from({ length: groups }, () => new Array<bigint>(fields).fill(0n));
  for (let h = 0; h < owners.length; h++) {
    const row = acc[owners[h]!];
    if (!row) throw new RangeError(`hash ${h} names group ${owners[h]} of ${groups}`);
    for (let f = 0; f < fields; f++) {
      const v = values[h * fields + f];
      if (v) row[f]! += BigInt(v);
    }
  }
  return acc.map((row) => row.map(String));
}
