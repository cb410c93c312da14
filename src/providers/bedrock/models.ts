/**
 * Claude model names → Bedrock model ids.
 *
 * Bedrock serves Claude through cross-region inference profiles: `<geo>.anthropic.<id>`, where the
 * geography follows the account's region (`us-east-1` → `us`). The table is the `provider_ids.bedrock`
 * column of the model catalog Claude Code ships, without its `us.` prefix; a client may name a model
 * by its catalog id (`claude-sonnet-4-5`) or its first-party id (`claude-sonnet-4-5-20250929`).
 * Ids already in Bedrock's shape (`us.anthropic.…`, `anthropic.…`, ARNs) pass unchanged, and the
 * account's modelMapping (applied before this) overrides everything.
 */
const CATALOG: readonly (readonly [catalogId: string, firstPartyId: string, bedrockId: string])[] = [
  ['claude-3-5-haiku', 'claude-3-5-haiku-20241022', 'anthropic.claude-3-5-haiku-20241022-v1:0'],
  ['claude-haiku-4-5', 'claude-haiku-4-5-20251001', 'anthropic.claude-haiku-4-5-20251001-v1:0'],
  ['claude-haiku-5-5', 'claude-haiku-5-5', 'anthropic.claude-haiku-5-5'],
  ['claude-3-5-sonnet', 'claude-3-5-sonnet-20241022', 'anthropic.claude-3-5-sonnet-20241022-v2:0'],
  ['claude-3-7-sonnet', 'claude-3-7-sonnet-20250219', 'anthropic.claude-3-7-sonnet-20250219-v1:0'],
  ['claude-sonnet-4-0', 'claude-sonnet-4-20250514', 'anthropic.claude-sonnet-4-20250514-v1:0'],
  ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
  ['claude-sonnet-4-6', 'claude-sonnet-4-6', 'anthropic.claude-sonnet-4-6'],
  ['claude-sonnet-5', 'claude-sonnet-5', 'anthropic.claude-sonnet-5'],
  ['claude-sonnet-5-5', 'claude-sonnet-5-5', 'anthropic.claude-sonnet-5-5'],
  ['claude-opus-4-0', 'claude-opus-4-20250514', 'anthropic.claude-opus-4-20250514-v1:0'],
  ['claude-opus-4-1', 'claude-opus-4-1-20250805', 'anthropic.claude-opus-4-1-20250805-v1:0'],
  ['claude-opus-4-5', 'claude-opus-4-5-20251101', 'anthropic.claude-opus-4-5-20251101-v1:0'],
  ['claude-opus-4-6', 'claude-opus-4-6', 'anthropic.claude-opus-4-6-v1'],
  ['claude-opus-4-7', 'claude-opus-4-7', 'anthropic.claude-opus-4-7'],
  ['claude-opus-4-8', 'claude-opus-4-8', 'anthropic.claude-opus-4-8'],
  ['claude-opus-5', 'claude-opus-5', 'anthropic.claude-opus-5'],
  ['claude-opus-5-5', 'claude-opus-5-5', 'anthropic.claude-opus-5-5'],
  ['claude-fable-5', 'claude-fable-5', 'anthropic.claude-fable-5'],
  ['claude-fable-5-1', 'claude-fable-5-1', 'anthropic.claude-fable-5-1'],
  ['claude-fable-5-2', 'claude-fable-5-2', 'anthropic.claude-fable-5-2'],
];

const BY_NAME = new Map<string, string>(
  CATALOG.flatMap(
    ([catalog, firstParty, bedrock]) =>
      [
        [catalog, bedrock],
        [firstParty, bedrock],
      ] as const,
  ),
);
// Short names Anthropic's API also accepts for these models.
BY_NAME.set('claude-sonnet-4', BY_NAME.get('claude-sonnet-4-0') as string);
BY_NAME.set('claude-opus-4', BY_NAME.get('claude-opus-4-0') as string);

/** Geographies of cross-region inference profiles. */
export const PROFILE_GEOS = ['us', 'eu', 'apac', 'jp', 'au', 'us-gov', 'global'] as const;
const GEO_PREFIX = new RegExp(`^(?:${PROFILE_GEOS.join('|')})\\.`);

/** The inference-profile geography for a region, as Claude Code picks it. */
export function geoForRegion(region: string): string {
  if (region.startsWith('us-gov-')) return 'us-gov';
  if (region.startsWith('us-')) return 'us';
  if (region.startsWith('eu-')) return 'eu';
  if (region.startsWith('ap-')) return 'apac';
  return 'global';
}

/**
 * The Bedrock model id for a (mapped) model name. `profile` is the account's choice of inference
 * profile geography; `none` asks for the in-region base model id.
 */
export function bedrockModelId(model: string, region: string, profile?: string): string {
  if (model.startsWith('arn:') || GEO_PREFIX.test(model) || model.startsWith('anthropic.')) return model;
  const name = model.trim().toLowerCase();
  // A Claude model the table does not know yet: newer catalog entries are `<geo>.anthropic.<id>`.
  const base = BY_NAME.get(name) ?? (name.startsWith('claude-') ? `anthropic.${name}` : undefined);
  if (!base) return model;
  const geo = profile || geoForRegion(region);
  return geo === 'none' ? base : `${geo}.${base}`;
}

/** CountTokens takes a foundation model id: inference profiles are rejected there. */
export const foundationModelId = (modelId: string): string => modelId.replace(GEO_PREFIX, '');
