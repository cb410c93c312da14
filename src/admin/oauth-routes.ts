import { parsePastedCode, saveOAuthSession, takeOAuthSession } from '../accounts/oauth/flow.js';
import { credentialsOf } from '../accounts/oauth/tokens.js';
import { PLATFORMS, type Platform } from '../accounts/service.js';
import { accountCreateInput } from './inputs.js';
import { created, notFound, ok } from './route-kit.js';

import { asObject, invalid, reqString } from './validate.js';
import { accountView } from './views.js';
import type { AdminDeps, AdminRequest, Authed, Route } from './types.js';

/**
 * OAuth accounts through the authorization-code flow with PKCE:
 *   POST /admin/oauth/:platform/start                 → {sessionId, authorizationUrl, expiresAt}
 *   POST /admin/oauth/:platform/exchange {sessionId, code, name?, …account settings} → 201 account
 * `code` is what the provider's page shows (`code#state`), or the whole callback URL.
 */
export function registerOAuthRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  const flowOf = (ctx: AdminRequest) => {
    const platform = ctx.params[0] ?? '';
    const flow = PLATFORMS.includes(platform as Platform) ? deps.providers.get(platform as Platform)?.oauth : undefined;
    if (!flow) throw notFound();
    return flow;
  };

  route(
    'post',
    '/admin/oauth/:platform/start',
    authed(async (ctx) => {
      const flow = flowOf(ctx);
      const { session, challenge } = await saveOAuthSession(deps.store, flow.platform, deps.clock.now());
      return ok({
        sessionId: session.id,
        authorizationUrl: flow.authorizationUrl({ state: session.state, codeChallenge: challenge }),
        expiresAt: new Date(session.createdAt + 600_000).toISOString(),
      });
    }),
  );

  route(
    'post',
    '/admin/oauth/:platform/exchange',
    authed(async (ctx) => {
      const flow = flowOf(ctx);
      const body = asObject(ctx.body);
      const sessionId = reqString(body, 'sessionId', { max: 100 });
      const pasted = parsePastedCode(reqString(body, 'code', { max: 4000 }));
      const { sessionId: _s, code: _c, ...settings } = body;
      const session = await takeOAuthSession(deps.store, sessionId);
      if (!session || session.platform !== flow.platform)
        throw invalid('sessionId: unknown or expired; start the flow again.');
      if (pasted.state !== undefined && pasted.state !== session.state)
        throw invalid('code: it belongs to another authorization (state mismatch).');
      let tokens;
      try {
        const proxy = typeof settings.proxy === 'string' && settings.proxy ? settings.proxy : undefined;
        tokens = await flow.exchange({
          code: pasted.code,
          codeVerifier: session.verifier,
          state: session.state,
          ...(proxy ? { proxy } : {}),
        });
      } catch (err) {
        throw invalid(`code: the provider refused it (${(err as Error).message}).`);
      }
      const described = (await flow.describe?.(tokens)) ?? {};
      // Validate the account like any other (settings, name), then give it the tokens.
      const input = accountCreateInput({
        ...settings,
        platform: flow.platform,
        type: flow.type,
        name: settings.name ?? described.name ?? `${flow.platform} oauth`,
        accessToken: tokens.accessToken,
        ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
        expiresAt: String(tokens.expiresAt),
        ...described.options,
      });
      const account = await deps.accounts.create({
        ...input,
        credentials: { ...credentialsOf(tokens), ...described.credentials, ...input.credentials },
      });
      return created(accountView(account));
    }),
  );
}
