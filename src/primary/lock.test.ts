import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataDir, lockFile, RelayAlreadyRunning } from './lock.js';

describe('the DATA_DIR lock', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'crs-lock-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('holds the PID of its owner and is removed on release', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(readFileSync(lockFile(dir), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(lockFile(dir))).toBe(false);
  });

  it('refuses a second owner while the first is alive, naming its PID', () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      lockDataDir(dir, child.pid);
      expect(() => lockDataDir(dir)).toThrow(RelayAlreadyRunning);
      expect(() => lockDataDir(dir)).toThrow(`Another relay (PID ${child.pid}) is already running`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over the lock of an owner that died', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => child.once('exit', resolve));
    writeFileSync(lockFile(dir), `${child.pid}\n`);
    const lock = lockDataDir(dir);
    expect(readFileSync(lockFile(dir), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });

  it('does not remove a lock that another owner has taken since', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    writeFileSync(lockFile(dir), '1\n');
    lock.release();
    expect(readFileSync(lockFile(dir), 'utf8').trim()).toBe('1');
  });
});
