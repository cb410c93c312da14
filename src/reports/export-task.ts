import { lowerThreadPriority } from '../work/thread.js';
import { exportChunkTask } from './export-chunk.js';

lowerThreadPriority();

/** Pool task: reads and serialises one chunk of an export (see export-chunk.ts). */
export const chunk = exportChunkTask;
