import type { AccountService, Platform } from '../accounts/service.js';
import { RelayError } from '../errors/catalogue.js';
import { isAccountId, isApiKeyId, type AccountId, type ApiKeyId } from '../ids.js';
import type { ApiKeyService } from '../keys/service.js';
import { providerFor, supportedAccountTypes } from '../providers/registry.js';
import type { JsonContext, JsonHandler, Method } from '../server/json-route.js';
import type { UsageQueries } from '../usage/queries.js';
import type { AdminAuth } from './auth.js';
import { asObject, invalid, onlyFields, optBool, optInt, optString, optTime, optUrl, reqString } from './validate.js';
import { accountView, keyView } from './views.js';

export interface AdminDeps {
  auth: AdminAuth;
  keys: ApiKeyService;
  accounts: AccountService;
  usage: UsageQueries;
  /** Client address for login throttling (honours TRUST_PROXY). */
  clientAddress(ctx: JsonContext): string;
}

type Route = (method: Method, pattern: string, handler: JsonHandler) => void;

const notFound = () => new RelayError('admin_not_found');

function bearer(ctx: JsonContext): string | undefined {
  const m = /^bearer\s+(.+)$/i.exec(ctx.ex.incoming.headers['authorization'] ?? '');
  return m?.[1]?.trim();
}

function keyId(ctx: JsonContext): ApiKeyId {
  const id = ctx.params[0] ?? '';
  if (!isApiKeyId(id)) throw notFound();
  return id;
}

function accountId(ctx: JsonContext): AccountId {
  const id = ctx.params[0] ?? '';
  if (!isAccountId(id)) throw notFound();
  return id;
}

function days(ctx: JsonContext): number {
  const raw = ctx.query.get('days');
  if (raw === null) return 30;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 400) throw invalid('days: expected an integer from 1 to 400.');
  return n;
}

const KEY_FIELDS = ['name', 'description', 'active', 'expiresAt'] as const;
const ACCOUNT_FIELDS = ['platform', 'type', 'name', 'description', 'apiKey', 'baseUrl', 'priority', 'active', 'schedulable'] as const;

/** The admin REST API. Every route but login needs `Authorization: Bearer <token>`. */
export function registerAdminRoutes(route: Route, deps: AdminDeps): void {
  const authed =
    (handler: JsonHandler): JsonHandler =>
    async (ctx) => {
      if (!(await deps.auth.verify(bearer(ctx)))) throw new RelayError('admin_unauthorized');
      return handler(ctx);
    };

  route('post', '/admin/login', async (ctx) => {
    const body = asObject(ctx.body);
    const username = reqString(body, 'username', { max: 100 });
    const password = reqString(body, 'password', { max: 500 });
    const result = await deps.auth.login(username, password, deps.clientAddress(ctx));
    if (result.ok) return { status: 200, body: { token: result.token, expiresAt: new Date(result.expiresAt).toISOString() } };
    if (result.reason === 'throttled') {
      throw new RelayError('admin_login_throttled', { headers: { 'retry-after': String(result.retryAfterSeconds) } });
    }
    throw new RelayError('admin_bad_credentials');
  });

  route(
    'post',
    '/admin/logout',
    authed(async (ctx) => {
      await deps.auth.logout(bearer(ctx) ?? '');
      return { status: 204, body: null };
    }),
  );

  route(
    'post',
    '/admin/password',
    authed(async (ctx) => {
      const body = asObject(ctx.body);
      onlyFields(body, ['currentPassword', 'newPassword', 'username']);
      const current = reqString(body, 'currentPassword', { max: 500 });
      const next = reqString(body, 'newPassword', { min: 12, max: 500 });
      if (!(await deps.auth.checkPassword(current))) throw new RelayError('admin_bad_credentials');
      const username = optString(body, 'username', { min: 1, max: 100 }) ?? (await deps.auth.verify(bearer(ctx))) ?? 'admin';
      await deps.auth.setCredentials(username, next);
      return { status: 204, body: null };
    }),
  );

  // ── relay API keys ───────────────────────────────────────────────────────────
  route(
    'get',
    '/admin/api-keys',
    authed(async () => ({ status: 200, body: { items: (await deps.keys.list()).map(keyView) } })),
  );

  route(
    'post',
    '/admin/api-keys',
    authed(async (ctx) => {
      const body = asObject(ctx.body);
      onlyFields(body, KEY_FIELDS);
      const input = {
        name: reqString(body, 'name', { max: 100 }),
        description: optString(body, 'description', { max: 500 }),
        active: optBool(body, 'active'),
        expiresAt: optTime(body, 'expiresAt'),
      };
      const { record, plaintext } = await deps.keys.create(input);
      return { status: 201, body: { ...keyView(record), key: plaintext } };
    }),
  );

  route(
    'get',
    '/admin/api-keys/:id',
    authed(async (ctx) => {
      const key = await deps.keys.get(keyId(ctx));
      if (!key) throw notFound();
      return { status: 200, body: keyView(key) };
    }),
  );

  route(
    'patch',
    '/admin/api-keys/:id',
    authed(async (ctx) => {
      const body = asObject(ctx.body);
      onlyFields(body, KEY_FIELDS);
      const patch = {
        name: optString(body, 'name', { min: 1, max: 100 }),
        description: optString(body, 'description', { max: 500 }),
        active: optBool(body, 'active'),
        expiresAt: optTime(body, 'expiresAt'),
      };
      const key = await deps.keys.update(keyId(ctx), patch);
      if (!key) throw notFound();
      return { status: 200, body: keyView(key) };
    }),
  );

  route(
    'del',
    '/admin/api-keys/:id',
    authed(async (ctx) => {
      if (!(await deps.keys.remove(keyId(ctx)))) throw notFound();
      return { status: 204, body: null };
    }),
  );

  route(
    'get',
    '/admin/api-keys/:id/usage',
    authed(async (ctx) => {
      const id = keyId(ctx);
      if (!(await deps.keys.get(id))) throw notFound();
      return { status: 200, body: await deps.usage.forKey(id, days(ctx)) };
    }),
  );

  route(
    'get',
    '/admin/api-keys/:id/records',
    authed(async (ctx) => {
      const id = keyId(ctx);
      const limit = Number(ctx.query.get('limit') ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid('limit: expected an integer from 1 to 1000.');
      if (!(await deps.keys.get(id))) throw notFound();
      return { status: 200, body: { items: await deps.usage.records(id, limit) } };
    }),
  );

  // ── upstream accounts ────────────────────────────────────────────────────────
  route(
    'get',
    '/admin/accounts',
    authed(async () => ({ status: 200, body: { items: (await deps.accounts.list()).map(accountView) } })),
  );

  route(
    'post',
    '/admin/accounts',
    authed(async (ctx) => {
      const body = asObject(ctx.body);
      onlyFields(body, ACCOUNT_FIELDS);
      const platform = reqString(body, 'platform') as Platform;
      const types = supportedAccountTypes()[platform];
      if (!types) throw invalid(`platform: expected one of ${Object.keys(supportedAccountTypes()).join(', ')}.`);
      const type = reqString(body, 'type');
      if (!types.includes(type)) throw invalid(`type: ${platform} accounts can be ${types.join(', ')}.`);
      const provider = providerFor(platform);
      const account = await deps.accounts.create({
        platform,
        type,
        name: reqString(body, 'name', { max: 100 }),
        description: optString(body, 'description', { max: 500 }),
        baseUrl: optUrl(body, 'baseUrl') ?? provider?.defaultBaseUrl ?? '',
        priority: optInt(body, 'priority', 1, 100),
        active: optBool(body, 'active'),
        schedulable: optBool(body, 'schedulable'),
        credentials: { apiKey: reqString(body, 'apiKey', { min: 8, max: 1000 }) },
      });
      return { status: 201, body: accountView(account) };
    }),
  );

  route(
    'get',
    '/admin/accounts/:id',
    authed(async (ctx) => {
      const account = await deps.accounts.get(accountId(ctx));
      if (!account) throw notFound();
      return { status: 200, body: accountView(account) };
    }),
  );

  route(
    'patch',
    '/admin/accounts/:id',
    authed(async (ctx) => {
      const body = asObject(ctx.body);
      onlyFields(body, ACCOUNT_FIELDS.filter((f) => f !== 'platform' && f !== 'type'));
      const apiKey = optString(body, 'apiKey', { min: 8, max: 1000 });
      const account = await deps.accounts.update(accountId(ctx), {
        name: optString(body, 'name', { min: 1, max: 100 }),
        description: optString(body, 'description', { max: 500 }),
        baseUrl: optUrl(body, 'baseUrl'),
        priority: optInt(body, 'priority', 1, 100),
        active: optBool(body, 'active'),
        schedulable: optBool(body, 'schedulable'),
        credentials: apiKey ? { apiKey } : undefined,
      });
      if (!account) throw notFound();
      return { status: 200, body: accountView(account) };
    }),
  );

  route(
    'del',
    '/admin/accounts/:id',
    authed(async (ctx) => {
      if (!(await deps.accounts.remove(accountId(ctx)))) throw notFound();
      return { status: 204, body: null };
    }),
  );

  route(
    'get',
    '/admin/accounts/:id/usage',
    authed(async (ctx) => {
      const id = accountId(ctx);
      if (!(await deps.accounts.get(id))) throw notFound();
      return { status: 200, body: await deps.usage.forAccount(id, days(ctx)) };
    }),
  );
}
