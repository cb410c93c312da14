import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  opts: object,
) => Promise<Buffer>;

/**
 * Keyed hashing and authenticated encryption derived from ENCRYPTION_KEY. Separate sub-keys
 * (HKDF) for each use, so one never doubles as another.
 */
export interface Secrets {
  /** HMAC-SHA256 of a relay key: the only form in which relay keys are stored. */
  hashApiKey(plaintext: string): string;
  /** HMAC-SHA256 for opaque tokens (admin sessions). */
  hashToken(token: string): string;
  /** AES-256-GCM; output `v1.<iv>.<tag>.<ciphertext>` in base64url. */
  encrypt(plaintext: string): string;
  /** Throws if the blob was tampered with or encrypted under another key. */
  decrypt(blob: string): string;
}

function subKey(master: string, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(master, 'utf8'), Buffer.alloc(0), Buffer.from(label, 'utf8'), 32));
}

export function createSecrets(encryptionKey: string): Secrets {
  const apiKeyHmac = subKey(encryptionKey, 'crs/api-key-hash/v1');
  const tokenHmac = subKey(encryptionKey, 'crs/token-hash/v1');
  const aesKey = subKey(encryptionKey, 'crs/credentials/aes-256-gcm/v1');
  return {
    hashApiKey: (plaintext) => createHmac('sha256', apiKeyHmac).update(plaintext).digest('hex'),
    hashToken: (token) => createHmac('sha256', tokenHmac).update(token).digest('hex'),
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join(
        '.',
      );
    },
    decrypt(blob) {
      const [version, iv, tag, ct] = blob.split('.');
      if (version !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unrecognised encrypted blob');
      const authTag = Buffer.from(tag, 'base64url');
      // A full-length tag only: GCM would otherwise accept a truncated, forgeable one.
      if (authTag.length !== 16) throw new Error('unrecognised encrypted blob');
      const decipher = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
      decipher.setAuthTag(authTag);
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** Password hash for the admin: scrypt with a random salt, `scrypt$<salt>$<hash>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, SCRYPT);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A random secret printable in a terminal (for generated admin passwords and tokens). */
export function randomSecret(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}
