import type { Store } from '../store/index.js';
import { validateTable, type PricingTableJson } from './pricing.js';

/**
 * The table `crs pricing refresh` stored for every node, as the relays read it:
 * `none` (they use the shipped table), `valid`, or `invalid` (they keep what they had).
 */
export type StoredPricing =
  { kind: 'none' } | { kind: 'valid'; table: PricingTableJson } | { kind: 'invalid'; error: string };

export async function readStoredPricingTable(store: Store): Promise<StoredPricing> {
  const raw = await store.redis.get(store.keys.pricingTable());
  if (!raw) return { kind: 'none' };
  try {
    return { kind: 'valid', table: validateTable(JSON.parse(raw)) };
  } catch (err) {
    return { kind: 'invalid', error: (err as Error).message };
  }
}
