import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkPool, task } from './pool.js';

const pool = createWorkPool({ maxThreads: 1, idleMs: 1_000 });
afterAll(() => pool.close());

const sum = task<number[], { total: number; threadId: number; nice: number }>(
  new URL('./pool-fixture-task.js', import.meta.url),
  'sum',
);
const spin = task<number, number>(new URL('./pool-fixture-task.js', import.meta.url), 'spin');

describe('work pool', () => {
  it('starts no thread before the first task, then runs tasks off the main thread at a lower priority', async () => {
    expect(pool.stats().threads).toBe(0);
    const out = await pool.run(sum, [1, 2, 3, 4]);
    expect(out.total).toBe(10);
    expect(out.threadId).toBeGreaterThan(0);
    // The thread's own nice value, read from /proc (field 19 of stat)
    expect(out.nice).toBe(10);
    const ownNice = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ')[16]);
    expect(ownNice).toBe(0);
  });

  it('with no threads runs the same task on the calling thread', async () => {
    const inline = createWorkPool({ maxThreads: 0 });
    const out = await inline.run(sum, [2, 3]);
    expect(out).toMatchObject({ total: 5, threadId: 0 });
    expect(inline.stats()).toEqual({ threads: 0, queued: 0, completed: 1 });
  });

  it('cancels a running task when its signal aborts', async () => {
    const ac = new AbortController();
    const running = pool.run(spin, 10_000, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(running).rejects.toThrow(/abort/i);
    // the pool still works afterwards
    expect((await pool.run(sum, [5])).total).toBe(5);
  });
});
