import { RuleError, RULE_PATCH_FIELDS } from '../alerts/rules.js';
import { channelView } from '../alerts/channel-store.js';
import { CHANNEL_TYPES, ChannelError, type ChannelType } from '../alerts/types.js';
import { bearer, created, noContent, notFound, ok } from './route-kit.js';
import type { AdminDeps, AdminRequest, Authed, Route } from './types.js';
import {
  asObject,
  invalid,
  onlyFields,
  optBool,
  optEnum,
  optInt,
  optString,
  optStringMap,
  reqString,
} from './validate.js';

const CHANNEL_ID = /^(ch_[0-9a-f]{16}|console)$/;
const RULE_ID = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const SILENCE_ID = /^sil_[0-9a-f]{16}$/;
const MAX_SILENCE_MS = 365 * 86_400_000;

const param = (ctx: AdminRequest, pattern: RegExp) => {
  const id = ctx.params[0] ?? '';
  if (!pattern.test(id)) throw notFound();
  return id;
};
const limitOf = (ctx: AdminRequest, fallback = 100) => {
  const raw = ctx.query.get('limit');
  const n = raw === null ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw invalid('limit: expected an integer from 1 to 1000');
  return n;
};

/** Validation failures of rules and channels are the caller's mistake: 400 with the reason. */
async function checked<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof RuleError || (err instanceof ChannelError && !err.retryable)) throw invalid(err.message);
    throw err;
  }
}

function channelInput(body: Record<string, unknown>) {
  onlyFields(body, ['type', 'name', 'enabled', 'minSeverity', 'ratePerMinute', 'settings', 'secrets']);
  return {
    name: optString(body, 'name', { min: 1, max: 100 }),
    enabled: optBool(body, 'enabled'),
    minSeverity: optString(body, 'minSeverity', { max: 10 }),
    ratePerMinute: optInt(body, 'ratePerMinute', 0, 10_000),
    settings: optStringMap(body, 'settings', 50),
    secrets: optStringMap(body, 'secrets', 20),
  };
}

/**
 * The alert engine's admin API: alerts (active and recent), rules (the shipped file with the
 * changes made here), channels (secrets write-only), test-sends, silences, deliveries and the
 * console inbox.
 */
export function registerAlertRoutes(route: Route, authed: Authed, deps: AdminDeps): void {
  const alerts = deps.alerts;
  const who = async (ctx: AdminRequest) => (await deps.auth.verify(bearer(ctx))) ?? 'admin';

  route(
    'get',
    '/admin/alerts',
    authed(async (ctx) => ok({ active: await alerts.active(), history: await alerts.history(limitOf(ctx)) })),
  );

  route(
    'get',
    '/admin/alerts/rules',
    authed(async () => ok({ items: await alerts.ruleViews() })),
  );
  route(
    'patch',
    '/admin/alerts/rules/:id',
    authed(async (ctx) => {
      const body = asObject(ctx.body);
      onlyFields(body, RULE_PATCH_FIELDS);
      const rule = await checked(() => alerts.patchRule(param(ctx, RULE_ID), body));
      if (!rule) throw notFound();
      return ok(rule);
    }),
  );
  route(
    'post',
    '/admin/alerts/rules/:id/reset',
    authed(async (ctx) => {
      const rule = await alerts.resetRule(param(ctx, RULE_ID));
      if (!rule) throw notFound();
      return ok(rule);
    }),
  );

  route(
    'get',
    '/admin/alerts/channels',
    authed(async () => ok({ items: await alerts.channelViews() })),
  );
  route(
    'post',
    '/admin/alerts/channels',
    authed(async (ctx) => {
      const body = asObject(ctx.body);
      const input = channelInput(body);
      const type = optEnum(body, 'type', CHANNEL_TYPES) as ChannelType | undefined;
      if (!type || type === 'console')
        throw invalid(`type: expected one of ${CHANNEL_TYPES.filter((t) => t !== 'console').join(', ')}`);
      const name = reqString(body, 'name', { min: 1, max: 100 });
      return created(channelView(await checked(() => alerts.channels.create({ ...input, type, name }))));
    }),
  );
  route(
    'get',
    '/admin/alerts/channels/:id',
    authed(async (ctx) => {
      const c = await alerts.channels.get(param(ctx, CHANNEL_ID));
      if (!c) throw notFound();
      return ok(channelView(c));
    }),
  );
  route(
    'patch',
    '/admin/alerts/channels/:id',
    authed(async (ctx) => {
      const id = param(ctx, CHANNEL_ID);
      if (id === 'console') throw invalid('the console channel is built in');
      const body = asObject(ctx.body);
      if (body.type !== undefined) throw invalid('type: a channel keeps its type (create a new one)');
      const c = await checked(() => alerts.channels.update(id, channelInput(body)));
      if (!c) throw notFound();
      return ok(channelView(c));
    }),
  );
  route(
    'del',
    '/admin/alerts/channels/:id',
    authed(async (ctx) => {
      if (!(await alerts.channels.remove(param(ctx, CHANNEL_ID)))) throw notFound();
      return noContent();
    }),
  );
  route(
    'post',
    '/admin/alerts/channels/:id/test',
    authed(async (ctx) => {
      const result = await alerts.testSend(param(ctx, CHANNEL_ID), await who(ctx));
      if (!result) throw notFound();
      return ok(result);
    }),
  );

  route(
    'get',
    '/admin/alerts/silences',
    authed(async () => ok({ items: await alerts.silences() })),
  );
  route(
    'post',
    '/admin/alerts/silences',
    authed(async (ctx) => {
      const body = asObject(ctx.body);
      onlyFields(body, ['rule', 'labels', 'until', 'for', 'comment']);
      const rule = optString(body, 'rule', { min: 1, max: 64 }) ?? null;
      if (rule !== null && !(await alerts.rules()).some((r) => r.id === rule)) throw invalid(`rule: no rule "${rule}"`);
      const now = deps.clock.now();
      const forMinutes = optInt(body, 'for', 1, MAX_SILENCE_MS / 60_000);
      const untilRaw = optString(body, 'until', { max: 40 });
      const until = forMinutes !== undefined ? now + forMinutes * 60_000 : untilRaw ? Date.parse(untilRaw) : NaN;
      if (!Number.isFinite(until) || until <= now || until > now + MAX_SILENCE_MS) {
        throw invalid('until (an ISO time within a year) or for (minutes) is required');
      }
      const silence = await alerts.silence({
        rule,
        labels: optStringMap(body, 'labels', 20) ?? {},
        until,
        comment: optString(body, 'comment', { max: 500 }) ?? '',
        createdBy: await who(ctx),
      });
      return created(silence);
    }),
  );
  route(
    'del',
    '/admin/alerts/silences/:id',
    authed(async (ctx) => {
      if (!(await alerts.unsilence(param(ctx, SILENCE_ID)))) throw notFound();
      return noContent();
    }),
  );

  route(
    'get',
    '/admin/alerts/deliveries',
    authed(async (ctx) => ok({ items: await alerts.deliveries(limitOf(ctx)) })),
  );
  route(
    'get',
    '/admin/alerts/inbox',
    authed(async (ctx) => ok({ items: await alerts.inbox(limitOf(ctx)) })),
  );
}
