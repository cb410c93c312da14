import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config/index.js';
import type { AccountId } from '../../src/ids.js';
import { ensureAdmin } from '../../src/primary/bootstrap.js';
import { startInstance, type RelayInstance } from '../../src/server/instance.js';
import type { UsageReport } from '../../src/usage/queries.js';
import type { Clock } from '../../src/util/clock.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import './provided.js';

export type { UsageReport };

export const TEST_ENCRYPTION_KEY = 'test-encryption-key-0123456789abcdef0123456789abcdef';
export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'test-admin-password-1';

/** A fresh key prefix: each test file gets its own namespace in the shared test Redis. */
export const uniquePrefix = () => `t${randomBytes(4).toString('hex')}:`;

/** Environment for a relay under test, pointing at the project's Redis (standalone or cluster). */
export function testEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  const target = inject('redisTarget');
  const redis: Record<string, string> =
    target.kind === 'cluster'
      ? { REDIS_CLUSTER_NODES: target.nodes.map((n) => `${n.host}:${n.port}`).join(',') }
      : { REDIS_URL: target.url };
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    WORKERS: '1',
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    REDIS_KEY_PREFIX: prefix,
    ADMIN_USERNAME: ADMIN_USER,
    ADMIN_PASSWORD,
    LOG_LEVEL: 'error',
    // Counting on, as in production, on a port of its own (several relays run at once here).
    METRICS_PORT: '0',
    ...redis,
    ...extra,
  };
}

/** The env of a laptop install: testEnv without Redis, encryption key or admin password. */
export function embeddedEnv(dataDir: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  const env = testEnv(uniquePrefix(), {
    PORT: String(port),
    WORKERS: '2',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    ...extra,
  });
  delete env.REDIS_URL;
  delete env.REDIS_CLUSTER_NODES;
  delete env.ENCRYPTION_KEY;
  delete env.ADMIN_PASSWORD;
  delete env.REDIS_KEY_PREFIX;
  return env;
}

export interface ApiResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A thin client for the admin API of a relay under test. */
export class AdminClient {
  token = '';
  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    token = this.token,
  ): Promise<ApiResult<T>> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
  }

  async login(username = ADMIN_USER, password = ADMIN_PASSWORD): Promise<void> {
    const res = await this.request<{ token: string }>('POST', '/admin/login', { username, password }, '');
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
    this.token = res.body.token;
  }

  async createKey(input: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
    const res = await this.request<{ id: string; key: string }>('POST', '/admin/api-keys', {
      name: 'test key',
      ...input,
    });
    if (res.status !== 201) throw new Error(`createKey: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async createAccount(input: Record<string, unknown>): Promise<{ id: string }> {
    const res = await this.request<{ id: string }>('POST', '/admin/accounts', {
      platform: 'claude',
      type: 'api-key',
      name: 'test account',
      ...input,
    });
    if (res.status !== 201) throw new Error(`createAccount: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Deletes every account, so the next test's pick is the account it makes. */
  async deleteAllAccounts(): Promise<void> {
    const list = await this.request<{ items: { id: string }[] }>('GET', '/admin/accounts');
    for (const a of list.body.items) await this.request('DELETE', `/admin/accounts/${a.id}`);
  }

  async keyUsage(id: string, days = 2) {
    return (await this.request<UsageReport>('GET', `/admin/api-keys/${id}/usage?days=${days}`)).body;
  }

  async accountUsage(id: string, days = 2) {
    return (await this.request<UsageReport>('GET', `/admin/accounts/${id}/usage?days=${days}`)).body;
  }
}

export interface TestRelay {
  readonly url: string;
  readonly config: Config;
  readonly instance: RelayInstance;
  readonly admin: AdminClient;
  close(): Promise<void>;
}

/**
 * Starts a relay instance in this process (real uWS socket on a free port, real Redis) with a
 * logged-in admin client. Pass the same `prefix` to two relays to make them one deployment.
 */
export async function startTestRelay(
  opts: { prefix?: string; env?: Record<string, string>; clock?: Clock; log?: Logger } = {},
): Promise<TestRelay> {
  const prefix = opts.prefix ?? uniquePrefix();
  const config = loadConfig(testEnv(prefix, opts.env));
  const instance = await startInstance(config, { log: opts.log ?? silentLogger, clock: opts.clock, name: 'crs-test' });
  await ensureAdmin(config, instance.store, TEST_ENCRYPTION_KEY, () => {});
  const url = `http://127.0.0.1:${instance.port}`;
  const admin = new AdminClient(url);
  await admin.login();
  return {
    url,
    config,
    instance,
    admin,
    close: async () => {
      await instance.drain(5_000);
    },
  };
}

/** The account's credentials as stored (decrypted), read from Redis, not from a cache. */
export async function storedCredentials(relay: TestRelay, id: string): Promise<Readonly<Record<string, string>>> {
  const account = await relay.instance.deps.accounts.get(id as AccountId);
  if (!account) throw new Error(`account ${id} not found`);
  return account.credentials;
}
