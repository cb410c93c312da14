import { RelayError } from '../errors/catalogue.js';
import { registerAccountRoutes } from './account-routes.js';
import { registerAlertRoutes } from './alert-routes.js';
import type { PasswordCheck } from './auth.js';
import { registerGroupRoutes } from './group-routes.js';
import { newPasswordInput } from './inputs.js';
import { registerKeyRoutes } from './key-routes.js';
import { registerOAuthRoutes } from './oauth-routes.js';
import { registerProbeRoutes } from './probe-routes.js';
import { registerExportRoutes } from './export-routes.js';
import { registerReportRoutes } from './report-routes.js';
import { registerReportScheduleRoutes } from './report-schedule-routes.js';
import { registerSystemRoutes } from './system-routes.js';
import { bearer, noContent, ok, requireAdmin } from './route-kit.js';
import type { AdminDeps, Route } from './types.js';
import { asObject, onlyFields, optString, reqString } from './validate.js';

/** A refused password guess: 429 with retry-after once the address is throttled, else 401. */
function refusal(check: Exclude<PasswordCheck, { ok: true }>): RelayError {
  if (check.reason === 'throttled') {
    return new RelayError('admin_login_throttled', { headers: { 'retry-after': String(check.retryAfterSeconds) } });
  }
  return new RelayError('admin_bad_credentials');
}

/** The admin REST API. Every route but login needs `Authorization: Bearer <token>`. */
export type { AdminDeps } from './types.js';

export function registerAdminRoutes(route: Route, deps: AdminDeps): void {
  const authed = requireAdmin(deps.auth);

  route('post', '/admin/login', async (ctx) => {
    const body = asObject(ctx.body);
    const username = reqString(body, 'username', { max: 100 });
    const password = reqString(body, 'password', { max: 500 });
    const result = await deps.auth.login(username, password, ctx.clientAddress);
    if (result.ok) return ok({ token: result.token, expiresAt: new Date(result.expiresAt).toISOString() });
    deps.security.adminLoginFailed(ctx.clientAddress);
    throw refusal(result);
  });

  route(
    'post',
    '/admin/logout',
    authed(async (ctx) => {
      await deps.auth.logout(bearer(ctx) ?? '');
      return noContent();
    }),
  );

  route(
    'post',
    '/admin/password',
    authed(async (ctx) => {
      const body = asObject(ctx.body);
      onlyFields(body, ['currentPassword', 'newPassword', 'username']);
      const current = reqString(body, 'currentPassword', { max: 500 });
      const next = newPasswordInput(body);
      const check = await deps.auth.checkPassword(current, ctx.clientAddress);
      if (!check.ok) throw refusal(check);
      const username =
        optString(body, 'username', { min: 1, max: 100 }) ?? (await deps.auth.verify(bearer(ctx))) ?? 'admin';
      await deps.auth.setCredentials(username, next);
      return noContent();
    }),
  );

  registerKeyRoutes(route, authed, deps);
  registerAccountRoutes(route, authed, deps);
  registerProbeRoutes(route, authed, deps);
  registerGroupRoutes(route, authed, deps);
  registerSystemRoutes(route, authed, deps);
  registerOAuthRoutes(route, authed, deps);
  registerAlertRoutes(route, authed, deps);
  registerReportRoutes(route, authed, deps);
  registerExportRoutes(route, authed, deps);
  registerReportScheduleRoutes(route, authed, deps);
}
