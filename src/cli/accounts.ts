import { accountCreateInput, accountPatchInput, usageDays } from '../admin/inputs.js';
import { accountView } from '../admin/views.js';
import { isAccountId, type AccountId } from '../ids.js';
import { boolFlag, defined, intFlag, str, type Values } from './args.js';
import type { Command, Group } from './command.js';
import { CliError, usageError } from './errors.js';
import { when, yesNo, type Output } from './output.js';
import { readSecret } from './prompt.js';
import { printUsage } from './usage-report.js';

type AccountView = ReturnType<typeof accountView>;

function accountId(raw: string | undefined): AccountId {
  const id = raw ?? '';
  if (!isAccountId(id)) throw new CliError(`No account with id "${id}" (ids look like a_0123456789abcdef).`);
  return id;
}
const notFound = (id: string) => new CliError(`No account with id "${id}".`);

/** Credential hints are the last four characters at most (`…wxyz`), never the secret. */
const hints = (a: AccountView) =>
  Object.entries(a.credentialHints)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '-';

function printAccount(out: Output, a: AccountView): void {
  out.fields([
    ['id', a.id],
    ['platform', a.platform],
    ['type', a.type],
    ['name', a.name],
    ['description', a.description || '-'],
    ['base url', a.baseUrl],
    ['priority', String(a.priority)],
    ['active', yesNo(a.active)],
    ['schedulable', yesNo(a.schedulable)],
    ['credentials', hints(a)],
    ['last used', when(a.lastUsedAt)],
    ['created', when(a.createdAt)],
    ['updated', when(a.updatedAt)],
  ]);
}

const EDIT_OPTIONS = {
  name: { type: 'string' },
  description: { type: 'string' },
  'api-key': { type: 'string' },
  'base-url': { type: 'string' },
  priority: { type: 'string' },
  active: { type: 'string' },
  schedulable: { type: 'string' },
} as const;

/** `--api-key -` reads the key from stdin (or the terminal, hidden), keeping it out of `ps`. */
async function apiKeyFlag(values: Values): Promise<string | undefined> {
  const v = str(values, 'api-key');
  return v === '-' ? readSecret('Upstream API key', { confirm: false }) : v;
}

/** The flags as an admin API payload, so the API's own validators judge them. */
const editBody = async (values: Values) =>
  defined({
    name: str(values, 'name'),
    description: str(values, 'description'),
    apiKey: await apiKeyFlag(values),
    baseUrl: str(values, 'base-url'),
    priority: intFlag(values, 'priority'),
    active: boolFlag(values, 'active'),
    schedulable: boolFlag(values, 'schedulable'),
  });

const commands: Command[] = [
  {
    name: 'list',
    synopsis: 'list',
    summary: 'List upstream accounts (credentials masked).',
    async run(ctx, { out }) {
      const items = (await (await ctx.accounts()).list()).map((a) => accountView(a));
      if (out.json) return out.data({ items });
      if (items.length === 0) return out.line('No accounts yet. Add one: crs accounts create --platform claude --type api-key --name NAME --api-key KEY');
      out.table(
        ['ID', 'PLATFORM', 'TYPE', 'NAME', 'PRIORITY', 'ACTIVE', 'SCHEDULABLE', 'CREDENTIALS', 'LAST USED'],
        items.map((a) => [a.id, a.platform, a.type, a.name, String(a.priority), yesNo(a.active), yesNo(a.schedulable), hints(a), when(a.lastUsedAt)]),
      );
    },
  },
  {
    name: 'create',
    synopsis: 'create --platform claude --type api-key --name N --api-key K [--base-url U] [--priority P]',
    summary: 'Add an upstream account.',
    options: { platform: { type: 'string' }, type: { type: 'string' }, ...EDIT_OPTIONS },
    async run(ctx, { values, out }) {
      const input = accountCreateInput({ platform: str(values, 'platform'), type: str(values, 'type'), ...(await editBody(values)) });
      const account = accountView(await (await ctx.accounts()).create(input));
      if (out.json) return out.data(account);
      out.line(`Created account ${account.id} (${account.name}).`);
      printAccount(out, account);
    },
  },
  {
    name: 'show',
    synopsis: 'show ID',
    summary: 'Show one account (credentials masked).',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const id = accountId(args[0]);
      const account = await (await ctx.accounts()).get(id);
      if (!account) throw notFound(id);
      if (out.json) return out.data(accountView(account));
      printAccount(out, accountView(account));
    },
  },
  {
    name: 'update',
    synopsis: 'update ID [--name] [--description] [--api-key] [--base-url] [--priority] [--active] [--schedulable]',
    summary: 'Change an account; running relays see it at once.',
    args: ['ID'],
    options: EDIT_OPTIONS,
    async run(ctx, { args, values, out }) {
      const id = accountId(args[0]);
      const body = await editBody(values);
      if (Object.keys(body).length === 0) throw usageError(`Nothing to update: give at least one of ${Object.keys(EDIT_OPTIONS).map((o) => `--${o}`).join(', ')}.`);
      const patch = accountPatchInput(body);
      const account = await (await ctx.accounts()).update(id, patch);
      if (!account) throw notFound(id);
      if (out.json) return out.data(accountView(account));
      out.line(`Updated account ${account.id}.`);
      printAccount(out, accountView(account));
    },
  },
  {
    name: 'delete',
    synopsis: 'delete ID',
    summary: 'Delete an account; relays stop using it at once.',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const id = accountId(args[0]);
      if (!(await (await ctx.accounts()).remove(id))) throw notFound(id);
      if (out.json) return out.data({ deleted: id });
      out.line(`Deleted account ${id}.`);
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
      const account = await (await ctx.accounts()).get(id);
      if (!account) throw notFound(id);
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
    '--priority: 1..100, lower is preferred (default 50). --active, --schedulable: true or false.',
    '--base-url defaults to the platform\'s API (https://api.anthropic.com for claude).',
    'The API key is stored encrypted and never printed; lists show its last four characters.',
    '--api-key - reads it from stdin (hidden on a terminal), so it does not show in ps or shell history.',
    '--json prints what the admin API returns (GET/POST/PATCH /admin/accounts).',
  ],
};
