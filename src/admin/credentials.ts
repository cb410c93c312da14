import type { Store } from '../store/index.js';

/** The admin's current user name, or null before the first start created one. */
export async function storedAdminUsername(store: Store): Promise<string | null> {
  const name = await store.redis.hget(store.keys.adminCredentials(), 'username');
  return name || null;
}
