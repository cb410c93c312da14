/**
 * One Redis write the alert engine makes: a command, its key, its other arguments. The jobs lease
 * (jobs/lease.ts) runs a list of them only while this node still holds it, in one Lua call, so
 * every key must share the lease's hash tag (`{alerts}`).
 */
export type FencedOp = readonly [command: string, key: string, ...args: (string | number)[]];

/** Runs the writes if the lease is still ours; false (nothing written) if not. */
export type Fenced = (ops: readonly FencedOp[]) => Promise<boolean>;

/** What the alert engine and its deliveries need of the jobs lease. */
export interface Fence {
  write: Fenced;
  /** Moves the head of list `from` to the tail of `to` and returns it; null: empty; false: the lease is lost. */
  move(from: string, to: string): Promise<string | null | false>;
}
