import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

let lowered = false;

/**
 * Lowers the calling pool thread's CPU priority (nice 10), once. On Linux a thread has its own
 * nice value, set through its thread id (`/proc/thread-self`); elsewhere, or when refused, the
 * thread keeps the process's priority. Never lowers the main thread. Task modules call it at load.
 */
export function lowerThreadPriority(): void {
  if (lowered || isMainThread) return;
  lowered = true;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // not Linux, or not allowed: run at the normal priority
  }
}
