import { RelayError } from '../errors/catalogue.js';
import { isAccountId, isApiKeyId, isGroupId, type AccountId, type ApiKeyId } from '../ids.js';
import type { JsonContext, JsonHandler, Method } from '../server/json-route.js';
import type { AdminAuth } from './auth.js';

/** Registers one JSON route (the server's jsonRoutes in admin shape). */
export type Route = (method: Method, pattern: string, handler: JsonHandler) => void;

export const notFound = () => new RelayError('admin_not_found');

export function bearer(ctx: JsonContext): string | undefined {
  const m = /^bearer\s+(.+)$/i.exec(ctx.ex.incoming.headers['authorization'] ?? '');
  return m?.[1]?.trim();
}

/** Wraps a handler so it runs only for a valid admin session. */
export const requireAdmin =
  (auth: AdminAuth) =>
  (handler: JsonHandler): JsonHandler =>
  async (ctx) => {
    if (!(await auth.verify(bearer(ctx)))) throw new RelayError('admin_unauthorized');
    return handler(ctx);
  };

export function keyIdParam(ctx: JsonContext): ApiKeyId {
  const id = ctx.params[0] ?? '';
  if (!isApiKeyId(id)) throw notFound();
  return id;
}

export function accountIdParam(ctx: JsonContext): AccountId {
  const id = ctx.params[0] ?? '';
  if (!isAccountId(id)) throw notFound();
  return id;
}

export function groupIdParam(ctx: JsonContext): string {
  const id = ctx.params[0] ?? '';
  if (!isGroupId(id)) throw notFound();
  return id;
}

export const ok = (body: unknown) => ({ status: 200, body });
export const created = (body: unknown) => ({ status: 201, body });
export const noContent = () => ({ status: 204, body: null });
