import { lowerThreadPriority } from '../work/thread.js';
import { sumColumns } from './sum.js';

lowerThreadPriority();

/** Pool task: sums the counters of a large report's hashes (see sum.ts). */
export const sum = sumColumns;
