import { STRATEGIES, type Group as AccountGroup } from '../accounts/groups.js';
import { isGroupId } from '../ids.js';
import { groupCreateInput, groupPatchInput } from '../admin/inputs.js';
import { checkGroupMembers, forgetGroup } from '../admin/references.js';
import { groupView } from '../admin/views.js';
import { bodyOf, optionsOf } from './args.js';
import type { Command, Group } from './command.js';
import type { CliContext } from './context.js';
import { CliError, usageError } from './errors.js';
import { flagHelp, GROUP_FLAGS, updatable } from './flags.js';
import { when, type Output } from './output.js';

type GroupView = ReturnType<typeof groupView>;

function groupId(raw: string | undefined): string {
  const id = raw ?? '';
  if (!isGroupId(id)) throw new CliError(`No group with id "${id}" (ids look like g_0123456789abcdef).`);
  return id;
}
const notFound = (id: string) => new CliError(`No group with id "${id}".`);

const UPDATE_FLAGS = updatable(GROUP_FLAGS);

async function load(ctx: CliContext, raw: string | undefined): Promise<AccountGroup> {
  const id = groupId(raw);
  const group = await (await ctx.groups()).get(id);
  if (!group) throw notFound(id);
  return group;
}

/** Members by id and name (an account deleted meanwhile shows as unknown). */
async function printGroup(ctx: CliContext, out: Output, g: GroupView): Promise<void> {
  const names = new Map((await (await ctx.accounts()).snapshot()).map((a) => [a.id as string, a.name]));
  out.fields([
    ['id', g.id],
    ['name', g.name],
    ['description', g.description || '-'],
    ['platform', g.platform],
    ['strategy', g.strategy ?? `default (${ctx.config.schedulerStrategy})`],
    [
      'accounts',
      g.accountIds.length > 0 ? g.accountIds.map((id) => `${id} (${names.get(id) ?? 'unknown'})`).join(', ') : '-',
    ],
    ['created', when(g.createdAt)],
    ['updated', when(g.updatedAt)],
  ]);
}

const commands: Command[] = [
  {
    name: 'list',
    synopsis: 'list',
    summary: 'List account groups.',
    async run(ctx, { out }) {
      const items = (await (await ctx.groups()).list()).map(groupView);
      if (out.json) return out.data({ items });
      if (items.length === 0)
        return out.line('No groups yet. Create one: crs groups create --name NAME --platform claude --accounts a_…');
      out.table(
        ['ID', 'NAME', 'PLATFORM', 'STRATEGY', 'ACCOUNTS'],
        items.map((g) => [g.id, g.name, g.platform, g.strategy ?? 'default', String(g.accountIds.length)]),
      );
    },
  },
  {
    name: 'create',
    synopsis: 'create --name N --platform claude [--strategy S] [--accounts a_…,…] [--description D]',
    summary: 'Create a group of accounts that keys can be bound to (crs keys update ID --groups g_…).',
    options: optionsOf(GROUP_FLAGS),
    async run(ctx, { values, out }) {
      const input = groupCreateInput(bodyOf(values, GROUP_FLAGS));
      await checkGroupMembers({ accounts: await ctx.accounts() }, input, input.platform);
      const group = groupView(await (await ctx.groups()).create(input));
      if (out.json) return out.data(group);
      out.line(`Created group ${group.id} (${group.name}).`);
      await printGroup(ctx, out, group);
    },
  },
  {
    name: 'show',
    synopsis: 'show ID',
    summary: 'Show one group and its accounts.',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const group = groupView(await load(ctx, args[0]));
      if (out.json) return out.data(group);
      await printGroup(ctx, out, group);
    },
  },
  {
    name: 'update',
    synopsis: 'update ID [--name N] [--description D] [--strategy S|default] [--accounts a_…,…]',
    summary: 'Change a group; --accounts replaces its member list. Running relays see it at once.',
    args: ['ID'],
    options: optionsOf(UPDATE_FLAGS),
    async run(ctx, { args, values, out }) {
      const id = groupId(args[0]);
      const body = bodyOf(values, UPDATE_FLAGS);
      if (Object.keys(body).length === 0)
        throw usageError(
          `Nothing to update: give at least one of ${UPDATE_FLAGS.map((f) => `--${f.flag}`).join(', ')}.`,
        );
      const patch = groupPatchInput(body);
      const current = await load(ctx, id);
      await checkGroupMembers({ accounts: await ctx.accounts() }, patch, current.platform);
      const group = groupView((await (await ctx.groups()).update(id, patch)) ?? current);
      if (out.json) return out.data(group);
      out.line(`Updated group ${group.id}.`);
      await printGroup(ctx, out, group);
    },
  },
  {
    name: 'delete',
    synopsis: 'delete ID',
    summary: 'Delete a group; keys bound to it forget it (its accounts stay).',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const id = groupId(args[0]);
      if (!(await (await ctx.groups()).remove(id))) throw notFound(id);
      await forgetGroup({ keys: await ctx.keys() }, id);
      if (out.json) return out.data({ deleted: id });
      out.line(`Deleted group ${id}.`);
    },
  },
];

export const groupsGroup: Group = {
  name: 'groups',
  summary: 'account groups: named sets of accounts of one platform, bound to keys.',
  commands,
  notes: [
    'Settings:',
    ...flagHelp(GROUP_FLAGS),
    '',
    `Strategies: ${STRATEGIES.join(', ')}.`,
    'A key bound to groups (crs keys update ID --groups g_…) tries its dedicated accounts, then its',
    'groups in order, then the shared pool only with --pool-fallback true.',
    '--json prints what the admin API returns (GET/POST/PATCH /admin/groups).',
  ],
};
