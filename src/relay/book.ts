import { ZERO_USAGE, type TokenUsage } from '../usage/pricing.js';
import type { UsageEvent } from '../usage/recorder.js';
import type { FoundUsage } from '../wire/index.js';
import type { Call } from './call.js';

/** Books one upstream call (once, whatever happened to it), priced by the table of the moment. */
export async function book(
  call: Call,
  status: number,
  outcome: UsageEvent['outcome'],
  found: Pick<FoundUsage, 'usage' | 'model'> | undefined,
): Promise<void> {
  const { deps } = call;
  const usage: TokenUsage = found?.usage ?? { ...ZERO_USAGE };
  const model = found?.model ?? call.bridgeContext.upstreamModel;
  const price = deps.pricing().cost(model, usage);
  const now = deps.clock.now();
  const { trace } = call;
  // The booking releases the reservation in its own batch (windowBumps); nothing else may.
  const reservedTokens = call.reservation.tokens;
  call.reservation.tokens = 0;
  trace.outcome = outcome;
  trace.tokens = {
    input: usage.inputTokens,
    output: usage.outputTokens,
    cacheRead: usage.cacheReadTokens,
    cacheWrite5m: usage.cacheCreate5mTokens,
    cacheWrite1h: usage.cacheCreate1hTokens,
  };
  trace.costPico = price.costPico;
  deps.metrics.booked({
    platform: call.account.platform,
    pricedModel: price.source === 'fallback' ? undefined : price.pricedAs,
    tokens: trace.tokens,
    costPico: price.costPico,
  });
  await deps.recorder.record({
    requestId: call.requestId,
    keyId: call.key.id,
    accountId: call.account.id,
    platform: call.account.platform,
    model,
    endpoint: call.surface.name,
    stream: call.parsed.stream,
    status,
    outcome,
    usage,
    costPico: price.costPico,
    pricedAs: price.pricedAs,
    priceSource: price.source,
    startedAt: call.startedAt,
    durationMs: now - call.startedAt,
    ttfbMs: call.ttfbMs,
    ...(reservedTokens > 0 ? { reservedTokens } : {}),
  });
}
