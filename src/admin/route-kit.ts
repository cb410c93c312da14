import { RelayError } from '../errors/catalogue.js';
import { isAccountId, isApiKeyId, isGroupId, type AccountId, type ApiKeyId } from '../ids.js';
import type { AdminAuth } from './auth.js';
import type { AdminRequest, Authed } from './types.js';

export const notFound = () => new RelayError('admin_not_found');

export function bearer(ctx: AdminRequest): string | undefined {
  const m = /^bearer\s+(.+)$/i.exec(ctx.headers['authorization'] ?? '');
  return m?.[1]?.trim();
}

/** Wraps a handler so it runs only for a valid admin session. */
export const requireAdmin =
  (auth: AdminAuth): Authed =>
  (handler) =>
  async (ctx) => {
    if (!(await auth.verify(bearer(ctx)))) throw new RelayError('admin_unauthorized');
    return handler(ctx);
  };

export function keyIdParam(ctx: AdminRequest): ApiKeyId {
  const id = ctx.params[0] ?? '';
  if (!isApiKeyId(id)) throw notFound();
  return id;
}

export function accountIdParam(ctx: AdminRequest): AccountId {
  const id = ctx.params[0] ?? '';
  if (!isAccountId(id)) throw notFound();
  return id;
}

export function groupIdParam(ctx: AdminRequest): string {
  const id = ctx.params[0] ?? '';
  if (!isGroupId(id)) throw notFound();
  return id;
}

export const ok = (body: unknown) => ({ status: 200, body });
export const created = (body: unknown) => ({ status: 201, body });
export const noContent = () => ({ status: 204, body: null });
