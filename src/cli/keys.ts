import { keyCreateInput, keyPatchInput, usageDays } from '../admin/inputs.js';
import { checkKeyBindings } from '../admin/references.js';
import { keyView } from '../admin/views.js';
import { isApiKeyId, type ApiKeyId } from '../ids.js';
import type { ApiKeyInput, ApiKeyRecord } from '../keys/service.js';
import { bodyOf, optionsOf, str } from './args.js';
import type { Command, Group } from './command.js';
import type { CliContext } from './context.js';
import { CliError, usageError } from './errors.js';
import { flagHelp, KEY_FLAGS } from './flags.js';
import { printKey, printLimits } from './key-report.js';
import { when, yesNo } from './output.js';
import { printUsage } from './usage-report.js';

function keyId(raw: string | undefined): ApiKeyId {
  const id = raw ?? '';
  if (!isApiKeyId(id)) throw new CliError(`No API key with id "${id}" (ids look like k_0123456789abcdef).`);
  return id;
}
const notFound = (id: string) => new CliError(`No API key with id "${id}".`);

async function load(ctx: CliContext, raw: string | undefined): Promise<ApiKeyRecord> {
  const id = keyId(raw);
  const key = await (await ctx.keys()).get(id);
  if (!key) throw notFound(id);
  return key;
}

/** Bound accounts and groups must exist (the admin API's rule). */
const checked = async <T extends ApiKeyInput>(ctx: CliContext, input: T) =>
  checkKeyBindings({ accounts: await ctx.accounts(), groups: await ctx.groups() }, input);

const commands: Command[] = [
  {
    name: 'list',
    synopsis: 'list',
    summary: 'List relay API keys.',
    async run(ctx, { out }) {
      const items = (await (await ctx.keys()).list()).map(keyView);
      if (out.json) return out.data({ items });
      if (items.length === 0) return out.line('No API keys yet. Create one: crs keys create --name NAME');
      out.table(
        ['ID', 'NAME', 'ACTIVE', 'KEY', 'EXPIRES', 'LAST USED'],
        items.map((k) => [
          k.id,
          k.name,
          yesNo(k.active),
          k.keyPreview,
          when(k.expiresAt) === '-' ? 'never' : when(k.expiresAt),
          when(k.lastUsedAt),
        ]),
      );
    },
  },
  {
    name: 'create',
    synopsis: 'create --name N [SETTINGS]',
    summary: 'Create a key with any of the settings below; its secret is printed this once.',
    options: optionsOf(KEY_FLAGS),
    async run(ctx, { values, out }) {
      const input = await checked(ctx, keyCreateInput(bodyOf(values, KEY_FLAGS)));
      const { record, plaintext } = await (await ctx.keys()).create(input);
      const view = keyView(record);
      if (out.json) return out.data({ ...view, key: plaintext });
      out.line(`Created API key ${view.id} (${view.name}).`);
      out.line();
      out.line(`  ${plaintext}`);
      out.line();
      out.line('This is the only time the key is shown: give it to its owner now. Only its hash is stored.');
    },
  },
  {
    name: 'show',
    synopsis: 'show ID',
    summary: 'Show one key and all its settings (never its secret).',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const key = await load(ctx, args[0]);
      if (out.json) return out.data(keyView(key));
      printKey(out, keyView(key));
    },
  },
  {
    name: 'update',
    synopsis: 'update ID [SETTINGS]',
    summary: 'Change any of the settings below; running relays see it at once.',
    args: ['ID'],
    options: optionsOf(KEY_FLAGS),
    async run(ctx, { args, values, out }) {
      const id = keyId(args[0]);
      const body = bodyOf(values, KEY_FLAGS);
      if (Object.keys(body).length === 0)
        throw usageError('Nothing to update: give at least one setting (crs keys --help lists them).');
      const key = await (await ctx.keys()).update(id, await checked(ctx, keyPatchInput(body)));
      if (!key) throw notFound(id);
      if (out.json) return out.data(keyView(key));
      out.line(`Updated API key ${key.id}.`);
      printKey(out, keyView(key));
    },
  },
  {
    name: 'delete',
    synopsis: 'delete ID',
    summary: 'Delete a key; it stops working at once.',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const id = keyId(args[0]);
      if (!(await (await ctx.keys()).remove(id))) throw notFound(id);
      if (out.json) return out.data({ deleted: id });
      out.line(`Deleted API key ${id}.`);
    },
  },
  {
    name: 'limits',
    synopsis: 'limits ID',
    summary: "Current use of each of a key's limits, and when each resets.",
    args: ['ID'],
    async run(ctx, { args, out }) {
      const key = await load(ctx, args[0]);
      const usage = await (await ctx.limits()).usage(key);
      if (out.json) return out.data(usage);
      printLimits(out, `Limits of API key ${key.id} (${key.name})`, usage, ctx.config.statsTimezone);
    },
  },
  {
    name: 'usage',
    synopsis: 'usage ID [--days N]',
    summary: 'Tokens and cost of a key: total, per day, per model.',
    args: ['ID'],
    options: { days: { type: 'string' } },
    async run(ctx, { args, values, out }) {
      const id = keyId(args[0]);
      const days = usageDays(str(values, 'days'));
      const key = await load(ctx, id);
      const report = await (await ctx.usage()).forKey(id, days);
      if (out.json) return out.data(report);
      printUsage(out, `Usage of API key ${id} (${key.name})`, report, days, ctx.config.statsTimezone);
    },
  },
];

export const keysGroup: Group = {
  name: 'keys',
  summary: 'relay API keys (what clients send as x-api-key).',
  commands,
  notes: [
    'Settings (create and update):',
    ...flagHelp(KEY_FLAGS),
    '',
    "Lists are comma separated; '' clears one. Limits of 0 mean none.",
    'Example: crs keys create --name team --window-minutes 60 --window-requests 500 --daily-cost 20 --groups g_0123456789abcdef',
    '--json prints what the admin API returns (GET/POST/PATCH /admin/api-keys, GET …/:id/limits).',
  ],
};
