import { statfsSync } from 'node:fs';
import os from 'node:os';
import type { WorkerVitals } from '../metrics/node.js';

/** What a node's heartbeat tells the alert engine about its host and workers. */
export type NodeVitals = WorkerVitals & {
  [name: string]: number | null;
  /** Share of the host's CPU time busy since the previous reading (0..1). */
  cpuRatio: number;
  /** Share of the host's memory not available (0..1). */
  memoryUsedRatio: number;
  /** Share of the file system under DATA_DIR still free (0..1); null before DATA_DIR exists. */
  diskFreeRatio: number | null;
};

/** Reads the host's vitals; CPU is measured between two calls (the first call: since boot). */
export function hostVitals(dataDir: string, workers: () => Promise<WorkerVitals>): () => Promise<NodeVitals> {
  let previous = cpuTimes();
  return async () => {
    const now = cpuTimes();
    const busy = now.busy - previous.busy;
    const all = busy + now.idle - previous.idle;
    previous = now;
    let diskFreeRatio: number | null = null;
    try {
      const s = statfsSync(dataDir);
      diskFreeRatio = s.blocks > 0 ? s.bavail / s.blocks : null;
    } catch {
      // DATA_DIR not created (an external Redis and nothing written yet)
    }
    return {
      ...(await workers()),
      cpuRatio: all > 0 ? busy / all : 0,
      memoryUsedRatio: 1 - os.freemem() / os.totalmem(),
      diskFreeRatio,
    };
  };
}

function cpuTimes(): { busy: number; idle: number } {
  let busy = 0;
  let idle = 0;
  for (const c of os.cpus()) {
    busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
    idle += c.times.idle;
  }
  return { busy, idle };
}
