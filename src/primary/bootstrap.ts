import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createAdminAuth } from '../admin/auth.js';
import type { Config } from '../config/index.js';
import type { Store } from '../store/index.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { createSecrets, randomSecret } from '../util/secrets.js';

export const encryptionKeyFile = (config: Config): string => path.join(config.dataDir, 'encryption.key');

/** ENCRYPTION_KEY when set, else the key kept in DATA_DIR/encryption.key; undefined when there is neither. */
export function readEncryptionKey(config: Config): string | undefined {
  if (config.encryptionKey) return config.encryptionKey;
  const file = encryptionKeyFile(config);
  if (!existsSync(file)) return undefined;
  const key = readFileSync(file, 'utf8').trim();
  if (key.length >= 32) return key;
  throw new Error(`${file} holds no usable key (needs 32+ characters); restore it or set ENCRYPTION_KEY`);
}

/**
 * The encryption key (see readEncryptionKey), created in DATA_DIR/encryption.key on first start,
 * readable only by its owner. Losing it orphans every stored credential and relay key.
 */
export function resolveEncryptionKey(config: Config, log: Logger): string {
  const existing = readEncryptionKey(config);
  if (existing) return existing;
  const file = encryptionKeyFile(config);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  log.info('generated an encryption key; back it up with your data', { file });
  return key;
}

/** Creates the admin on first start; a generated password is printed exactly once. */
export async function ensureAdmin(
  config: Config,
  store: Store,
  encryptionKey: string,
  print: (line: string) => void,
): Promise<void> {
  const auth = createAdminAuth({
    store,
    secrets: createSecrets(encryptionKey),
    clock: systemClock,
    sessionTtlMs: config.adminSessionTtlMs,
  });
  const password = config.adminPassword ?? randomSecret(18);
  const created = await auth.ensureAdmin(config.adminUsername, password);
  if (!created) return;
  if (config.adminPassword) {
    print(`Admin "${config.adminUsername}" created with the password from ADMIN_PASSWORD.`);
  } else {
    print('');
    print('  ┌─ Admin login created (shown once) ───────────────────────────');
    print(`  │ user:     ${config.adminUsername}`);
    print(`  │ password: ${password}`);
    print('  │ Change it: npm run cli -- admin password');
    print('  └───────────────────────────────────────────────────────────────');
    print('');
  }
}
