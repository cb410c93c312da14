import { updateAccount } from '../admin/account-update.js';
import { accountCreateInput, accountPatchInput, usageDays } from '../admin/inputs.js';
import { createProbeRuntime, probeLimit, probeOnce, probesReport } from '../admin/probe-routes.js';
import { forgetAccount } from '../admin/references.js';
import { accountView, healthView } from '../admin/views.js';
import type { Account } from '../accounts/service.js';
import { isAccountId, type AccountId } from '../ids.js';
import { hints, printAccount, printHealth, routable } from './account-report.js';
import { bodyOf, optionsOf, str, type Values } from './args.js';
import type { Command, Group } from './command.js';
import type { CliContext } from './context.js';
import { cliEncryptionKey } from './connect.js';
import { CliError, usageError } from './errors.js';
import { ACCOUNT_FLAGS, flagHelp, updatable } from './flags.js';
import { when, yesNo, usd } from './output.js';
import { readSecret } from './prompt.js';
import { printUsage } from './usage-report.js';

function accountId(raw: string | undefined): AccountId {
  const id = raw ?? '';
  if (!isAccountId(id)) throw new CliError(`No account with id "${id}" (ids look like a_0123456789abcdef).`);
  return id;
}
const notFound = (id: string) => new CliError(`No account with id "${id}".`);

/** A prober in this process, on the relay's Redis: it takes the same per-account lock as the relays' probers. */
async function withProber<T>(ctx: CliContext, work: (p: Parameters<typeof probeOnce>[0]) => Promise<T>): Promise<T> {
  const runtime = await createProbeRuntime({
    config: { ...ctx.config, encryptionKey: cliEncryptionKey(ctx.config) },
    store: await ctx.store(),
    log: ctx.log,
  });
  try {
    return await work(runtime.prober);
  } finally {
    await runtime.close();
  }
}

const UPDATE_FLAGS = updatable(ACCOUNT_FLAGS);

/**
 * The flags as an admin API payload; `--api-key -` reads the key from stdin (or the terminal, hidden), keeping it out
 * of `ps`.
 */
async function accountBody(values: Values, flags: typeof ACCOUNT_FLAGS) {
  const body = bodyOf(values, flags);
  if (body.apiKey === '-') body.apiKey = await readSecret('Upstream API key', { confirm: false });
  return body;
}

/** The account as GET /admin/accounts/:id shows it: with whether it is routable now, and why not. */
async function withHealth(ctx: CliContext, account: Account, model?: string) {
  return accountView(account, healthView(await (await ctx.explain())(account, model)));
}

async function load(ctx: CliContext, raw: string | undefined): Promise<Account> {
  const id = accountId(raw);
  const account = await (await ctx.accounts()).get(id);
  if (!account) throw notFound(id);
  return account;
}

const commands: Command[] = [
  {
    name: 'list',
    synopsis: 'list',
    summary: 'List upstream accounts (credentials masked) and whether each is routable now.',
    async run(ctx, { out }) {
      const items = await Promise.all((await (await ctx.accounts()).list()).map((a) => withHealth(ctx, a)));
      if (out.json) return out.data({ items });
      if (items.length === 0)
        return out.line(
          'No accounts yet. Add one: crs accounts create --platform claude --type api-key --name NAME --api-key KEY',
        );
      out.table(
        ['ID', 'PLATFORM', 'TYPE', 'NAME', 'PRIORITY', 'ACTIVE', 'SCHEDULABLE', 'ROUTABLE', 'CREDENTIALS', 'LAST USED'],
        items.map((a) => [
          a.id,
          a.platform,
          a.type,
          a.name,
          String(a.priority),
          yesNo(a.active),
          yesNo(a.schedulable),
          routable(a.health),
          hints(a),
          when(a.lastUsedAt),
        ]),
      );
    },
  },
  {
    name: 'create',
    synopsis: 'create --platform claude --type api-key --name N --api-key K [SETTINGS]',
    summary: 'Add an upstream account with any of the settings below.',
    options: optionsOf(ACCOUNT_FLAGS),
    async run(ctx, { values, out }) {
      const input = accountCreateInput(await accountBody(values, ACCOUNT_FLAGS));
      const account = accountView(await (await ctx.accounts()).create(input));
      if (out.json) return out.data(account);
      out.line(`Created account ${account.id} (${account.name}).`);
      printAccount(out, account);
    },
  },
  {
    name: 'show',
    synopsis: 'show ID',
    summary: 'Show one account, its settings and whether it is routable (credentials masked).',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const account = await withHealth(ctx, await load(ctx, args[0]));
      if (out.json) return out.data(account);
      printAccount(out, account);
    },
  },
  {
    name: 'update',
    synopsis: 'update ID [SETTINGS]',
    summary: 'Change any of the settings below; running relays see it at once.',
    args: ['ID'],
    options: optionsOf(UPDATE_FLAGS),
    async run(ctx, { args, values, out }) {
      const id = accountId(args[0]);
      const body = await accountBody(values, UPDATE_FLAGS);
      if (Object.keys(body).length === 0)
        throw usageError('Nothing to update: give at least one setting (crs accounts --help lists them).');
      const current = await load(ctx, id);
      const account = await updateAccount(
        { accounts: await ctx.accounts(), health: await ctx.health() },
        current,
        accountPatchInput(body, current),
      );
      if (!account) throw notFound(id);
      const view = await withHealth(ctx, account);
      if (out.json) return out.data(view);
      out.line(`Updated account ${account.id}.`);
      printAccount(out, view);
    },
  },
  {
    name: 'delete',
    synopsis: 'delete ID',
    summary: 'Delete an account; relays stop using it at once, groups and keys forget it.',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const id = accountId(args[0]);
      if (!(await (await ctx.accounts()).remove(id))) throw notFound(id);
      await forgetAccount({ groups: await ctx.groups(), keys: await ctx.keys(), health: await ctx.health() }, id);
      if (out.json) return out.data({ deleted: id });
      out.line(`Deleted account ${id}.`);
    },
  },
  {
    name: 'health',
    synopsis: 'health ID [--model M]',
    summary: 'Whether an account can take requests now; if not, why, for which models and until when.',
    args: ['ID'],
    options: { model: { type: 'string' } },
    async run(ctx, { args, values, out }) {
      const account = await load(ctx, args[0]);
      const model = str(values, 'model');
      const health = healthView(await (await ctx.explain())(account, model));
      if (out.json) return out.data({ id: account.id, name: account.name, model: model ?? null, ...health });
      printHealth(out, account, health, model);
    },
  },
  {
    name: 'reset',
    synopsis: 'reset ID',
    summary:
      "Clear an account's cooldowns, unauthorized mark, breaker and automatic disable; it is routable again at once.",
    args: ['ID'],
    async run(ctx, { args, out }) {
      const account = await load(ctx, args[0]);
      await (await ctx.health()).reset(account.id);
      const view = await withHealth(ctx, account);
      if (out.json) return out.data(view);
      out.line(`Reset account ${account.id} (${account.name}): routable ${routable(view.health)}.`);
    },
  },
  {
    name: 'probe',
    synopsis: 'probe ID',
    summary: 'Send one minimal request through the account now and say how it went (as POST …/:id/probe).',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const account = await load(ctx, args[0]);
      const result = await withProber(ctx, (prober) => probeOnce(prober, account));
      if (out.json) return out.data(result);
      const change = result.change ? `; ${result.change.replace('_', ' ')}` : '';
      out.line(
        `Probed account ${account.id} (${account.name}) with ${result.model}: ${result.outcome}, ${result.detail}, ${result.latencyMs} ms, ${result.tokens} tokens, ${usd(result.cost)}${change}.`,
      );
    },
  },
  {
    name: 'probes',
    synopsis: 'probes ID [--limit N]',
    summary: "An account's recent probes, what they cost, and its probe state (as GET …/:id/probes).",
    args: ['ID'],
    options: { limit: { type: 'string' } },
    async run(ctx, { args, values, out }) {
      const account = await load(ctx, args[0]);
      const limit = probeLimit(str(values, 'limit'));
      const report = await withProber(ctx, (prober) => probesReport(prober, account, limit));
      if (out.json) return out.data(report);
      const { state, totals } = report;
      out.fields([
        ['failures in a row', String(state.consecutiveFailures)],
        ['successes in a row', String(state.consecutiveSuccesses)],
        [
          'automatically disabled',
          state.autoDisabled
            ? `${when(state.autoDisabled.at)} by ${state.autoDisabled.by}: ${state.autoDisabled.reason}`
            : 'no',
        ],
        ['last probe', when(state.lastProbeAt)],
        ['next probe', when(state.nextProbeAt)],
        ['probes ever', `${totals.probes} (${totals.tokens} tokens, ${usd(totals.cost)})`],
      ]);
      if (report.items.length === 0) return out.line('No probes in the last 7 days.');
      out.line();
      out.table(
        ['AT', 'WHY', 'OUTCOME', 'DETAIL', 'MS', 'MODEL', 'TOKENS', 'COST', 'NODE'],
        report.items.map((p) => [
          when(p.at),
          p.why,
          p.change ? `${p.outcome} (${p.change.replace('_', ' ')})` : p.outcome,
          p.detail,
          String(p.latencyMs),
          p.model,
          String(p.tokens),
          usd(p.cost),
          p.node,
        ]),
      );
    },
  },
  {
    name: 'usage',
    synopsis: 'usage ID [--days N]',
    summary: 'Tokens and cost served by an account.',
    args: ['ID'],
    options: { days: { type: 'string' } },
    async run(ctx, { args, values, out }) {
      const id = accountId(args[0]);
      const days = usageDays(str(values, 'days'));
      const account = await load(ctx, id);
      const report = await (await ctx.usage()).forAccount(id, days);
      if (out.json) return out.data(report);
      printUsage(out, `Usage of account ${id} (${account.name})`, report, days, ctx.config.statsTimezone);
    },
  },
];

export const accountsGroup: Group = {
  name: 'accounts',
  summary: 'upstream accounts the relay sends requests to.',
  commands,
  notes: [
    'Settings (create; update takes all but --platform and --type):',
    ...flagHelp(ACCOUNT_FLAGS),
    '',
    "Lists are comma separated; '' clears one. Model lists take globs: 'claude-sonnet-*'.",
    'The API key is stored encrypted and never printed; lists show its last four characters.',
    '--json prints what the admin API returns (GET/POST/PATCH /admin/accounts, …/:id/health, …/:id/reset, …/:id/probes, …/:id/probe).',
  ],
};
