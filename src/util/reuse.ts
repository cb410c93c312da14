/**
 * `load`'s answer, shared by every caller for `ttlMs` after it was asked for (several readers of
 * one scrape, say); a load that fails is forgotten at once, so the next caller tries again.
 */
export function reusedFor<T>(ttlMs: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    const at = now();
    if (!last || at - last.at > ttlMs) {
      const entry = { at, value: load() };
      entry.value.catch(() => {
        if (last === entry) last = null;
      });
      last = entry;
    }
    return last.value;
  };
}
