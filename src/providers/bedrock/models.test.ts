import { describe, expect, it } from 'vitest';
import { createPricing } from '../../usage/pricing.js';
import { bedrockModelId, foundationModelId, geoForRegion } from './models.js';

describe('bedrockModelId', () => {
  it.each<[string, string, string | undefined, string]>([
    // catalog ids and first-party ids of the same model
    ['claude-sonnet-4-5', 'us-east-1', undefined, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['claude-sonnet-4-5-20250929', 'us-west-2', undefined, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['claude-haiku-4-5-20251001', 'eu-central-1', undefined, 'eu.anthropic.claude-haiku-4-5-20251001-v1:0'],
    ['claude-opus-4-1-20250805', 'ap-northeast-1', undefined, 'apac.anthropic.claude-opus-4-1-20250805-v1:0'],
    ['claude-3-5-sonnet-20241022', 'us-east-1', undefined, 'us.anthropic.claude-3-5-sonnet-20241022-v2:0'],
    ['claude-opus-4-6', 'us-east-1', undefined, 'us.anthropic.claude-opus-4-6-v1'],
    ['claude-sonnet-5-5', 'us-east-1', undefined, 'us.anthropic.claude-sonnet-5-5'],
    ['claude-sonnet-4', 'us-east-1', undefined, 'us.anthropic.claude-sonnet-4-20250514-v1:0'],
    ['Claude-Sonnet-4-5', 'us-east-1', undefined, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    // the region decides the geography
    ['claude-sonnet-4-5', 'us-gov-west-1', undefined, 'us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['claude-sonnet-4-5', 'ca-central-1', undefined, 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    // the account's profile choice wins over the region
    ['claude-sonnet-4-5', 'ap-northeast-1', 'jp', 'jp.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['claude-sonnet-4-5', 'us-east-1', 'global', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['claude-sonnet-4-5', 'us-east-1', 'none', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
    // a Claude model newer than the table follows the newer catalog's shape
    ['claude-opus-9', 'eu-west-1', undefined, 'eu.anthropic.claude-opus-9'],
    // already Bedrock ids (e.g. from the account's modelMapping): unchanged
    [
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'us-east-1',
      undefined,
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
    ],
    ['anthropic.claude-3-haiku-20240307-v1:0', 'us-east-1', undefined, 'anthropic.claude-3-haiku-20240307-v1:0'],
    [
      'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc',
      'us-east-1',
      undefined,
      'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc',
    ],
    // not a Claude name at all: left for Bedrock to judge
    ['amazon.nova-pro-v1:0', 'us-east-1', undefined, 'amazon.nova-pro-v1:0'],
  ])('%s in %s (profile %s) → %s', (model, region, profile, expected) => {
    expect(bedrockModelId(model, region, profile)).toBe(expected);
  });
});

describe('geoForRegion', () => {
  it.each([
    ['us-east-1', 'us'],
    ['us-west-2', 'us'],
    ['us-gov-east-1', 'us-gov'],
    ['eu-west-3', 'eu'],
    ['ap-southeast-2', 'apac'],
    ['sa-east-1', 'global'],
  ])('%s → %s', (region, geo) => expect(geoForRegion(region)).toBe(geo));
});

describe('foundationModelId (CountTokens rejects inference profiles)', () => {
  it.each([
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['global.anthropic.claude-opus-4-6-v1', 'anthropic.claude-opus-4-6-v1'],
    ['anthropic.claude-3-haiku-20240307-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0'],
  ])('%s → %s', (id, expected) => expect(foundationModelId(id)).toBe(expected));
});

describe('Bedrock ids price as their Claude models', () => {
  const pricing = createPricing();
  it.each([
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['eu.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'],
    ['us.anthropic.claude-opus-4-6-v1', 'claude-opus-4-6'],
    ['us.anthropic.claude-sonnet-5-5', 'claude-sonnet-5-5'],
    ['global.anthropic.claude-opus-4-1-20250805-v1:0', 'claude-opus-4-1'],
    ['anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet'],
  ])('%s → %s', (id, model) => {
    const resolved = pricing.resolve(id);
    expect(resolved.model).toBe(model);
    expect(resolved.source).not.toBe('fallback');
  });
});
