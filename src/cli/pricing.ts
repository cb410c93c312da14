import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { optUrl } from '../admin/validate.js';
import { createPricing, type PriceSheet, type PriceSource, type PricingTableJson } from '../usage/pricing.js';
import { clearPricingTable, storePricingTable } from '../usage/pricing-source.js';
import { readStoredPricingTable } from '../usage/pricing-stored.js';
import { str } from './args.js';
import type { Group } from './command.js';
import type { CliContext } from './context.js';
import { CliError, usageError } from './errors.js';
import { count, decimal, plural, usd } from './output.js';
import { convert, download, FORMATS, shippedTable } from './pricing-document.js';

const RULES: Record<PriceSource, string> = {
  exact: 'listed in the table (by id or alias)',
  alias: 'its normalised name is listed (date, region or version suffix removed)',
  family: 'matched a family pattern of the table',
  fallback: 'not in the table: priced by the fallback rule',
};

/** Picodollars per token → USD per million tokens. */
const perMillion = (s: PriceSheet) => ({
  input: s.input / 1e6,
  output: s.output / 1e6,
  cacheWrite5m: s.cacheWrite5m / 1e6,
  cacheWrite1h: s.cacheWrite1h / 1e6,
  cacheRead: s.cacheRead / 1e6,
});

/** The table relays use now: the stored one if valid, else the shipped one. */
async function tableInForce(
  ctx: CliContext,
): Promise<{ table: PricingTableJson; source: 'stored' | 'shipped'; warning?: string }> {
  const stored = await readStoredPricingTable(await ctx.store());
  if (stored.kind === 'valid') return { table: stored.table, source: 'stored' };
  const warning =
    stored.kind === 'invalid'
      ? `The stored pricing table is invalid (${stored.error}); relays keep the table they had. Run crs pricing refresh or crs pricing reset.`
      : undefined;
  return { table: shippedTable(), source: 'shipped', warning };
}

function modelReport(table: PricingTableJson, model: string) {
  const r = createPricing(table).resolve(model);
  return {
    requested: model,
    pricedAs: r.model,
    rule: r.source,
    usdPerMillionTokens: perMillion(r.base),
    webSearchUsd: r.base.webSearch / 1e12,
    fastMultiplier: r.fast,
    tiers: r.tiers.map((t) => ({ aboveInputTokens: t.aboveInputTokens, usdPerMillionTokens: perMillion(t.sheet) })),
  };
}

export const pricingGroup: Group = {
  name: 'pricing',
  summary: 'the model price table used to book costs.',
  commands: [
    {
      name: 'show',
      synopsis: 'show [--model M]',
      summary: 'Table version in force; with --model, how M is priced.',
      options: { model: { type: 'string' } },
      async run(ctx, { values, out }) {
        const model = str(values, 'model')?.trim();
        if (model === '') throw usageError('--model: give a model name.');
        const { table, source, warning } = await tableInForce(ctx);
        const summary = {
          version: table.version,
          source,
          fallback: table.fallback,
          models: Object.keys(table.models).length,
          ...(warning ? { warning } : {}),
        };
        const detail = model ? modelReport(table, model) : undefined;
        if (out.json) return out.data({ ...summary, ...(detail ? { model: detail } : {}) });
        if (warning) out.line(`Warning: ${warning}\n`);
        out.line(
          `Pricing table ${table.version} (${source === 'stored' ? 'stored by crs pricing refresh' : 'shipped with the relay'}): ${plural(summary.models, 'model')}, fallback ${table.fallback}.`,
        );
        if (!detail) return out.line('Show how a model is priced: crs pricing show --model NAME');
        out.line();
        out.line(`${detail.requested} is priced as ${detail.pricedAs}: ${RULES[detail.rule]}.`);
        out.line();
        const p = detail.usdPerMillionTokens;
        out.fields([
          ['USD per million tokens', ''],
          ['  input', decimal(p.input)],
          ['  output', decimal(p.output)],
          ['  cache write (5m)', decimal(p.cacheWrite5m)],
          ['  cache write (1h)', decimal(p.cacheWrite1h)],
          ['  cache read', decimal(p.cacheRead)],
          ['web search', `${usd(detail.webSearchUsd)} per search`],
          ['fast mode', `x${decimal(detail.fastMultiplier)}`],
        ]);
        for (const t of detail.tiers) {
          const q = t.usdPerMillionTokens;
          out.line(
            `Prompts over ${count(t.aboveInputTokens)} tokens: input ${decimal(q.input)}, output ${decimal(q.output)}, cache write ${decimal(q.cacheWrite5m)} (5m) / ${decimal(q.cacheWrite1h)} (1h), cache read ${decimal(q.cacheRead)}.`,
          );
        }
      },
    },
    {
      name: 'refresh',
      synopsis: 'refresh --url URL [--format auto|crs|litellm] [--write FILE] [--dry-run]',
      summary: 'Download a price table and store it for every relay.',
      options: {
        url: { type: 'string' },
        format: { type: 'string' },
        write: { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
      async run(ctx, { values, out }) {
        const raw = str(values, 'url');
        if (raw === undefined)
          throw usageError("--url: required (a crs pricing table or LiteLLM's model_prices_and_context_window.json).");
        const url = optUrl({ url: raw }, 'url') ?? raw;
        const format = str(values, 'format') ?? 'auto';
        if (!(FORMATS as readonly string[]).includes(format))
          throw usageError(`--format: expected ${FORMATS.join(', ')}; got "${format}".`);
        const converted = convert(await download(url), format as (typeof FORMATS)[number], url);
        const { table } = converted;
        const file = str(values, 'write');
        if (file) {
          try {
            writeFileSync(file, JSON.stringify(converted.document, null, 2) + '\n');
          } catch (err) {
            throw new CliError(`--write: cannot write ${file}: ${(err as Error).message}`, 1, { cause: err });
          }
        }
        const dryRun = values['dry-run'] === true;
        if (!dryRun) await storePricingTable(await ctx.store(), table);
        const models = Object.keys(table.models).length;
        if (out.json) {
          return out.data({
            url,
            format: converted.format,
            version: table.version,
            fallback: table.fallback,
            models,
            stored: !dryRun,
            written: file ? path.resolve(file) : null,
          });
        }
        out.line(
          `Downloaded ${url} (${converted.format === 'crs' ? 'crs table' : 'LiteLLM price list'}): ${plural(models, 'model')}, fallback ${table.fallback}.`,
        );
        if (file) out.line(`Wrote ${file}.`);
        out.line(
          dryRun ? 'Dry run: nothing stored.' : `Stored pricing table ${table.version}; every relay reloads it now.`,
        );
      },
    },
    {
      name: 'reset',
      synopsis: 'reset',
      summary: 'Remove the stored table; relays go back to the shipped one.',
      async run(ctx, { out }) {
        await clearPricingTable(await ctx.store());
        const version = shippedTable().version;
        if (out.json) return out.data({ version, source: 'shipped' });
        out.line(`Removed the stored pricing table; every relay uses the shipped table ${version} again.`);
      },
    },
  ],
  notes: [
    'Prices are USD per million tokens. refresh accepts our table format (src/usage/pricing.json) or',
    "LiteLLM's model_prices_and_context_window.json (--format auto tells them apart); --write FILE also",
    'saves the table as JSON (e.g. src/usage/pricing.json); --dry-run validates without storing.',
  ],
};
