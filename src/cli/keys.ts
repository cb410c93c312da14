import { keyCreateInput, keyPatchInput, usageDays } from '../admin/inputs.js';
import { keyView } from '../admin/views.js';
import { isApiKeyId, type ApiKeyId } from '../ids.js';
import { defined, boolFlag, expiresFlag, str } from './args.js';
import type { Command, Group } from './command.js';
import { CliError, usageError } from './errors.js';
import { when, yesNo, type Output } from './output.js';
import { printUsage } from './usage-report.js';

type KeyView = ReturnType<typeof keyView>;

function keyId(raw: string | undefined): ApiKeyId {
  const id = raw ?? '';
  if (!isApiKeyId(id)) throw new CliError(`No API key with id "${id}" (ids look like k_0123456789abcdef).`);
  return id;
}
const notFound = (id: string) => new CliError(`No API key with id "${id}".`);

function printKey(out: Output, k: KeyView): void {
  out.fields([
    ['id', k.id],
    ['name', k.name],
    ['description', k.description || '-'],
    ['active', yesNo(k.active)],
    ['key', k.keyPreview],
    ['expires', when(k.expiresAt) === '-' ? 'never' : when(k.expiresAt)],
    ['last used', when(k.lastUsedAt)],
    ['created', when(k.createdAt)],
    ['updated', when(k.updatedAt)],
  ]);
}

const FIELD_OPTIONS = {
  name: { type: 'string' },
  description: { type: 'string' },
  expires: { type: 'string' },
} as const;

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
        items.map((k) => [k.id, k.name, yesNo(k.active), k.keyPreview, when(k.expiresAt) === '-' ? 'never' : when(k.expiresAt), when(k.lastUsedAt)]),
      );
    },
  },
  {
    name: 'create',
    synopsis: 'create --name N [--description D] [--expires ISO]',
    summary: 'Create a key; its secret is printed this once.',
    options: FIELD_OPTIONS,
    async run(ctx, { values, out }) {
      const input = keyCreateInput(defined({ name: str(values, 'name'), description: str(values, 'description'), expiresAt: expiresFlag(values) }));
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
    summary: 'Show one key (never its secret).',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const id = keyId(args[0]);
      const key = await (await ctx.keys()).get(id);
      if (!key) throw notFound(id);
      if (out.json) return out.data(keyView(key));
      printKey(out, keyView(key));
    },
  },
  {
    name: 'update',
    synopsis: 'update ID [--name N] [--description D] [--active true|false] [--expires ISO|never]',
    summary: 'Change a key; running relays see it at once.',
    args: ['ID'],
    options: { ...FIELD_OPTIONS, active: { type: 'string' } },
    async run(ctx, { args, values, out }) {
      const id = keyId(args[0]);
      const body = defined({ name: str(values, 'name'), description: str(values, 'description'), active: boolFlag(values, 'active'), expiresAt: expiresFlag(values) });
      if (Object.keys(body).length === 0) throw usageError('Nothing to update: give --name, --description, --active or --expires.');
      const key = await (await ctx.keys()).update(id, keyPatchInput(body));
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
    name: 'usage',
    synopsis: 'usage ID [--days N]',
    summary: 'Tokens and cost of a key: total, per day, per model.',
    args: ['ID'],
    options: { days: { type: 'string' } },
    async run(ctx, { args, values, out }) {
      const id = keyId(args[0]);
      const days = usageDays(str(values, 'days'));
      const key = await (await ctx.keys()).get(id);
      if (!key) throw notFound(id);
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
    'Dates: --expires 2027-01-31, 2027-01-31T12:00:00Z, epoch milliseconds, or never.',
    '--json prints what the admin API returns (GET/POST/PATCH /admin/api-keys).',
  ],
};
