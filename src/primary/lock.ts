import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Another relay is running on this DATA_DIR: starting a second one would take its Redis away. */
export class RelayAlreadyRunning extends Error {
  constructor(
    readonly pid: number,
    dataDir: string,
  ) {
    super(
      `Another relay (PID ${pid}) is already running on DATA_DIR ${dataDir}. ` +
        `Stop it first (kill ${pid}), or give this one its own DATA_DIR (or REDIS_URL).`,
    );
    this.name = 'RelayAlreadyRunning';
  }
}

export interface DataDirLock {
  release(): void;
}

export const lockFile = (dataDir: string): string => path.join(dataDir, 'relay.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is a Node process, where the system can tell (a reused PID of another program is not a relay). */
function isNode(pid: number): boolean {
  try {
    return /node/i.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Takes DATA_DIR for this primary: a lock file holding its PID, created exclusively. A lock whose
 * owner is alive refuses the start (RelayAlreadyRunning); one left by a primary that died is taken
 * over, and only then may that primary's embedded Redis be stopped.
 */
export function lockDataDir(dataDir: string, pid = process.pid): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = lockFile(dataDir);
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(file, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0) throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== pid && alive(owner) && isNode(owner)) {
        throw new RelayAlreadyRunning(owner, dataDir);
      }
      rmSync(file, { force: true });
    }
  }
  return {
    release() {
      try {
        if (Number(readFileSync(file, 'utf8').trim()) === pid) rmSync(file, { force: true });
      } catch {
        // already gone
      }
    },
  };
}
