import type { Store } from '../store/index.js';
import type { Logger } from '../util/log.js';
import { createPricing, validateTable, type Pricing } from './pricing.js';

/**
 * The pricing table in force: the one shipped in the repository, unless `crs pricing refresh`
 * stored a newer one in Redis. A refresh is published on the bus and every worker reloads.
 */
export interface PricingSource {
  current(): Pricing;
  reload(): Promise<void>;
}

export async function createPricingSource(deps: { store: Store; log: Logger }): Promise<PricingSource> {
  const { store, log } = deps;
  let pricing = createPricing();
  const reload = async () => {
    const raw = await store.redis.get(store.keys.pricingTable());
    if (!raw) {
      pricing = createPricing();
      return;
    }
    try {
      pricing = createPricing(validateTable(JSON.parse(raw)));
    } catch (err) {
      log.error('stored pricing table is invalid; keeping the previous one', { err });
    }
  };
  await reload();
  store.bus.on('pricing', () => {
    reload().catch((err: unknown) => log.error('pricing reload failed', { err }));
  });
  return { current: () => pricing, reload };
}

/** Stores a pricing table for every node (the refresh command) and tells them to reload. */
export async function storePricingTable(store: Store, table: unknown): Promise<string> {
  const valid = validateTable(table);
  createPricing(valid);
  await store.redis.set(store.keys.pricingTable(), JSON.stringify(valid));
  await store.bus.publish('pricing', '*');
  return valid.version;
}

export async function clearPricingTable(store: Store): Promise<void> {
  await store.redis.del(store.keys.pricingTable());
  await store.bus.publish('pricing', '*');
}
