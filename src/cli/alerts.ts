import { channelView } from '../alerts/channel-store.js';
import { RuleError } from '../alerts/rules.js';
import { CHANNEL_TYPES, ChannelError, type ChannelType } from '../alerts/types.js';
import { str, toMap } from './args.js';
import type { Command, Group } from './command.js';
import type { CliContext } from './context.js';
import { CliError, usageError } from './errors.js';
import { when } from './output.js';

const at = (ms: number) => when(new Date(ms).toISOString());

const int = (name: string, raw: string | undefined, min: number, max: number) => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usageError(`--${name}: expected an integer from ${min} to ${max}.`);
  return n;
};
const bool = (name: string, raw: string | undefined) => {
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw usageError(`--${name}: expected true or false.`);
  return raw === 'true';
};

/** Rule and channel mistakes are the user's: print the reason, exit 1. */
async function checked<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof RuleError || (err instanceof ChannelError && !err.retryable)) throw new CliError(err.message);
    throw err;
  }
}

const alerts = (ctx: CliContext) => ctx.alerts();

const CHANNEL_OPTIONS = {
  type: { type: 'string' },
  name: { type: 'string' },
  enabled: { type: 'string' },
  'min-severity': { type: 'string' },
  rate: { type: 'string' },
  settings: { type: 'string' },
  secrets: { type: 'string' },
} as const;

function channelInput(values: Record<string, string | boolean | undefined>) {
  return {
    name: str(values, 'name'),
    enabled: bool('enabled', str(values, 'enabled')),
    minSeverity: str(values, 'min-severity'),
    ratePerMinute: int('rate', str(values, 'rate'), 0, 10_000),
    settings: str(values, 'settings') === undefined ? undefined : toMap('settings', str(values, 'settings') ?? ''),
    secrets: str(values, 'secrets') === undefined ? undefined : toMap('secrets', str(values, 'secrets') ?? ''),
  };
}

const commands: Command[] = [
  {
    name: 'list',
    synopsis: 'list [--limit N]',
    summary: 'Alerts pending or firing now, and the latest transitions.',
    options: { limit: { type: 'string' } },
    async run(ctx, { values, out }) {
      const a = await alerts(ctx);
      const [active, history] = await Promise.all([
        a.active(),
        a.history(int('limit', str(values, 'limit'), 1, 1000) ?? 20),
      ]);
      if (out.json) return out.data({ active, history });
      if (active.length === 0) out.line('Nothing pending or firing.');
      else
        out.table(
          ['RULE', 'SUBJECT', 'STATUS', 'SINCE', 'VALUE'],
          active.map((s) => [s.rule, s.subject, s.status, at(s.firingSince ?? s.pendingSince), String(s.value ?? '-')]),
        );
      out.line();
      out.table(
        ['AT', 'RULE', 'SUBJECT', 'FROM', 'TO'],
        history.map((t) => [at(t.at), t.rule, t.subject ?? '-', t.from ?? '-', t.to ?? '-']),
      );
    },
  },
  {
    name: 'rules',
    synopsis: 'rules',
    summary: 'The rules: the shipped alerts/rules.yml with the changes made through the API or CLI.',
    async run(ctx, { out }) {
      const items = await (await alerts(ctx)).ruleViews();
      if (out.json) return out.data({ items });
      out.table(
        ['ID', 'SEVERITY', 'CONDITION', 'FOR', 'ENABLED', 'CHANGED'],
        items.map((r) => [
          r.id,
          String(r.severity),
          `${r.signal} ${r.op} ${r.threshold}`,
          String(r.for),
          r.enabled ? 'yes' : 'no',
          r.overridden.join(',') || '-',
        ]),
      );
    },
  },
  {
    name: 'rule-set',
    synopsis:
      'rule-set ID [--enabled B] [--threshold N] [--window D] [--min N] [--for D] [--severity S] [--cooldown D] [--group D] [--channels a,b]',
    summary: 'Change a rule (kept in Redis on top of the file; every node uses it at its next evaluation).',
    args: ['ID'],
    options: Object.fromEntries(
      ['enabled', 'threshold', 'window', 'min', 'for', 'severity', 'cooldown', 'group', 'channels'].map((f) => [
        f,
        { type: 'string' as const },
      ]),
    ),
    async run(ctx, { args, values, out }) {
      const patch: Record<string, unknown> = {};
      for (const f of ['window', 'for', 'severity', 'cooldown', 'group'])
        if (str(values, f) !== undefined) patch[f] = str(values, f);
      for (const f of ['threshold', 'min']) if (str(values, f) !== undefined) patch[f] = Number(str(values, f));
      if (str(values, 'enabled') !== undefined) patch.enabled = bool('enabled', str(values, 'enabled'));
      if (str(values, 'channels') !== undefined)
        patch.channels = (str(values, 'channels') ?? '').split(',').filter(Boolean);
      if (Object.keys(patch).length === 0) throw usageError('Nothing to change: give at least one setting.');
      const rule = await checked(async () => (await alerts(ctx)).patchRule(args[0] ?? '', patch));
      if (!rule) throw new CliError(`No rule "${args[0]}". See crs alerts rules.`);
      if (out.json) return out.data(rule);
      out.line(
        `Updated rule ${rule.id}: ${String(rule.signal)} ${String(rule.op)} ${String(rule.threshold)} for ${String(rule.for)}, ${String(rule.severity)}.`,
      );
    },
  },
  {
    name: 'rule-reset',
    synopsis: 'rule-reset ID',
    summary: "Back to the file's version of a rule.",
    args: ['ID'],
    async run(ctx, { args, out }) {
      const rule = await (await alerts(ctx)).resetRule(args[0] ?? '');
      if (!rule) throw new CliError(`No rule "${args[0]}".`);
      if (out.json) return out.data(rule);
      out.line(`Rule ${rule.id} is as shipped again.`);
    },
  },
  {
    name: 'channels',
    synopsis: 'channels',
    summary: 'The channels (secrets are never shown, only which are set).',
    async run(ctx, { out }) {
      const items = await (await alerts(ctx)).channelViews();
      if (out.json) return out.data({ items });
      out.table(
        ['ID', 'TYPE', 'NAME', 'MIN SEVERITY', 'ENABLED', 'SECRETS SET'],
        items.map((c) => [
          c.id,
          c.type,
          c.name,
          c.minSeverity,
          c.enabled ? 'yes' : 'no',
          c.secretsSet.join(',') || '-',
        ]),
      );
    },
  },
  {
    name: 'channel-add',
    synopsis: 'channel-add --type T --name N [--settings k=v,…] [--secrets k=v,…] [--min-severity P2] [--rate N]',
    summary: `Add a channel (${CHANNEL_TYPES.filter((t) => t !== 'console').join(', ')}).`,
    options: CHANNEL_OPTIONS,
    async run(ctx, { values, out }) {
      const type = str(values, 'type') as ChannelType | undefined;
      if (!type || type === 'console' || !(CHANNEL_TYPES as readonly string[]).includes(type)) {
        throw usageError(`--type: expected one of ${CHANNEL_TYPES.filter((t) => t !== 'console').join(', ')}.`);
      }
      const name = str(values, 'name');
      if (!name) throw usageError('--name is required.');
      const c = channelView(
        await checked(async () => (await alerts(ctx)).channels.create({ ...channelInput(values), type, name })),
      );
      if (out.json) return out.data(c);
      out.line(`Added ${c.type} channel ${c.id} (${c.name}). Try it: crs alerts test ${c.id}`);
    },
  },
  {
    name: 'channel-update',
    synopsis:
      'channel-update ID [--name N] [--enabled B] [--settings k=v,…] [--secrets k=v,…] [--min-severity S] [--rate N]',
    summary: 'Change a channel; settings and secrets are merged (k= removes one).',
    args: ['ID'],
    options: CHANNEL_OPTIONS,
    async run(ctx, { args, values, out }) {
      if (str(values, 'type') !== undefined) throw usageError('--type: a channel keeps its type (add a new one).');
      const c = await checked(async () => (await alerts(ctx)).channels.update(args[0] ?? '', channelInput(values)));
      if (!c) throw new CliError(`No channel "${args[0]}".`);
      if (out.json) return out.data(channelView(c));
      out.line(`Updated channel ${c.id}.`);
    },
  },
  {
    name: 'channel-remove',
    synopsis: 'channel-remove ID',
    summary: 'Remove a channel.',
    args: ['ID'],
    async run(ctx, { args, out }) {
      if (!(await (await alerts(ctx)).channels.remove(args[0] ?? ''))) throw new CliError(`No channel "${args[0]}".`);
      if (out.json) return out.data({ deleted: args[0] });
      out.line(`Removed channel ${args[0]}.`);
    },
  },
  {
    name: 'test',
    synopsis: 'test ID',
    summary: 'Send a test message through a channel now.',
    args: ['ID'],
    async run(ctx, { args, out }) {
      const r = await (await alerts(ctx)).testSend(args[0] ?? '', 'cli');
      if (!r) throw new CliError(`No channel "${args[0]}".`);
      if (out.json) return out.data(r);
      if (!r.ok) throw new CliError(`The test message was not delivered: ${r.detail}`);
      out.line(`Delivered: ${r.detail}`);
    },
  },
  {
    name: 'silence',
    synopsis: 'silence --minutes N [--rule ID] [--labels k=v,…] [--comment C]',
    summary: 'Keep alerts quiet for a while (one rule, or all; the subjects whose labels match).',
    options: {
      minutes: { type: 'string' },
      rule: { type: 'string' },
      labels: { type: 'string' },
      comment: { type: 'string' },
    },
    async run(ctx, { values, out }) {
      const minutes = int('minutes', str(values, 'minutes'), 1, 525_600);
      if (minutes === undefined) throw usageError('--minutes is required.');
      const a = await alerts(ctx);
      const rule = str(values, 'rule') ?? null;
      if (rule !== null && !(await a.rules()).some((r) => r.id === rule)) throw new CliError(`No rule "${rule}".`);
      const s = await a.silence({
        rule,
        labels: str(values, 'labels') ? toMap('labels', str(values, 'labels') ?? '') : {},
        until: Date.now() + minutes * 60_000,
        comment: str(values, 'comment') ?? '',
        createdBy: 'cli',
      });
      if (out.json) return out.data(s);
      out.line(`Silence ${s.id} until ${at(s.until)}.`);
    },
  },
  {
    name: 'silences',
    synopsis: 'silences',
    summary: 'The silences.',
    async run(ctx, { out }) {
      const items = await (await alerts(ctx)).silences();
      if (out.json) return out.data({ items });
      out.table(
        ['ID', 'RULE', 'LABELS', 'UNTIL', 'BY', 'COMMENT'],
        items.map((s) => [
          s.id,
          s.rule ?? '*',
          Object.entries(s.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || '*',
          at(s.until),
          s.createdBy,
          s.comment || '-',
        ]),
      );
    },
  },
  {
    name: 'unsilence',
    synopsis: 'unsilence ID',
    summary: 'End a silence.',
    args: ['ID'],
    async run(ctx, { args, out }) {
      if (!(await (await alerts(ctx)).unsilence(args[0] ?? ''))) throw new CliError(`No silence "${args[0]}".`);
      if (out.json) return out.data({ deleted: args[0] });
      out.line(`Silence ${args[0]} ended.`);
    },
  },
  {
    name: 'deliveries',
    synopsis: 'deliveries [--limit N]',
    summary: 'The delivery log: what went where, and why not.',
    options: { limit: { type: 'string' } },
    async run(ctx, { values, out }) {
      const items = await (await alerts(ctx)).deliveries(int('limit', str(values, 'limit'), 1, 1000) ?? 50);
      if (out.json) return out.data({ items });
      out.table(
        ['AT', 'CHANNEL', 'RULE', 'KIND', 'STATUS', 'TRY', 'DETAIL'],
        items.map((d) => [
          at(d.at),
          `${d.channelType} ${d.channelId}`,
          d.rule,
          d.kind,
          d.status,
          String(d.attempt),
          d.detail,
        ]),
      );
    },
  },
];

export const alertsGroup: Group = {
  name: 'alerts',
  summary: 'the alert engine: rules, channels, silences, deliveries.',
  commands,
  notes: [
    'Durations: 30s, 10m, 2h. Severities: P0–P3 (or critical, warning, info).',
    'Channel settings and secrets per type are listed in docs/ALERTS.md; secrets are write-only.',
    '--json prints what the admin API returns (GET /admin/alerts/…).',
  ],
};
