/**
 * What a fake upstream does next, per caller (API key, account, identity): the caller's scripted
 * steps first, then steps scripted for anyone (`'*'`), then the default.
 */
export function stepScript<S>(initial: S): {
  next(caller: string): S;
  add(caller: string, steps: S[]): void;
  setDefault(step: S): void;
  reset(): void;
} {
  const queues = new Map<string, S[]>();
  let fallback = initial;
  return {
    next: (caller) => queues.get(caller)?.shift() ?? queues.get('*')?.shift() ?? fallback,
    add(caller, steps) {
      queues.set(caller, [...(queues.get(caller) ?? []), ...steps]);
    },
    setDefault(step) {
      fallback = step;
    },
    /** Drops every scripted step and restores the first default. */
    reset() {
      queues.clear();
      fallback = initial;
    },
  };
}
