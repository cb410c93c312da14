import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { lowerThreadPriority } from './thread.js';

lowerThreadPriority();

/** Test task for pool.test.ts. */
export function sum(xs: number[]) {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
  return { total: xs.reduce((a, b) => a + b, 0), threadId, nice: Number(stat[16]) };
}

/** Busy for `ms` milliseconds. */
export function spin(ms: number) {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}
