import type { FakeUsage } from '../fakes/anthropic.js';
import type { UsageFigures, UsageReport } from '../../src/usage/queries.js';
import { waitFor } from './wait.js';

/**
 * Prices worked out by hand from the published per-million rates, in picodollars (1e-12 USD) per
 * token, so expected costs are exact integers: $2/M = 2,000,000 p$ per token. Deliberately not
 * read from the relay's pricing code, so a pricing bug cannot hide behind its own numbers.
 */
export const PRICES = {
  // $2 in, $10 out, 5-minute write 1.25x = $2.50, 1-hour write 2x = $4, read $0.10, $0.01 per search
  'claude-sonnet-5-5': {
    input: 2_000_000n,
    output: 10_000_000n,
    write5m: 2_500_000n,
    write1h: 4_000_000n,
    read: 100_000n,
    search: 10_000_000_000n,
  },
  // $4 in, $20 out, writes $5 / $8, read $0.20, $0.01 per search
  'claude-opus-5-5': {
    input: 4_000_000n,
    output: 20_000_000n,
    write5m: 5_000_000n,
    write1h: 8_000_000n,
    read: 200_000n,
    search: 10_000_000_000n,
  },
} as const;
export type PricedModel = keyof typeof PRICES;

/** The counters a usage report carries, cost as its exact decimal string (`cost` is a float for display). */
export type Booked = Omit<UsageFigures, 'cost' | 'fallbackPriced'>;

export const NOTHING: Booked = {
  requests: 0,
  errors: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheCreateTokens: 0,
  cacheCreate5mTokens: 0,
  cacheCreate1hTokens: 0,
  cacheReadTokens: 0,
  webSearchRequests: 0,
  costPico: '0',
};

/** What one successful call that reported `u` must book. */
export function expectedBooking(model: PricedModel, u: FakeUsage): Booked {
  const oneHour = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const written = u.cache_creation_input_tokens ?? oneHour + (u.cache_creation?.ephemeral_5m_input_tokens ?? 0);
  const fiveMin = written - oneHour;
  const read = u.cache_read_input_tokens ?? 0;
  const searches = u.server_tool_use?.web_search_requests ?? 0;
  const p = PRICES[model];
  const cost =
    BigInt(u.input_tokens) * p.input +
    BigInt(u.output_tokens) * p.output +
    BigInt(fiveMin) * p.write5m +
    BigInt(oneHour) * p.write1h +
    BigInt(read) * p.read +
    BigInt(searches) * p.search;
  return {
    requests: 1,
    errors: 0,
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens,
    cacheCreateTokens: written,
    cacheCreate5mTokens: fiveMin,
    cacheCreate1hTokens: oneHour,
    cacheReadTokens: read,
    webSearchRequests: searches,
    costPico: cost.toString(),
  };
}

export function sumBooked(list: readonly Booked[]): Booked {
  const out = { ...NOTHING };
  let cost = 0n;
  for (const b of list) {
    for (const k of Object.keys(NOTHING) as (keyof Booked)[]) if (k !== 'costPico') out[k] += b[k];
    cost += BigInt(b.costPico);
  }
  out.costPico = cost.toString();
  return out;
}

/** The counters of a report row (drops `cost`, the float for display, and any extra fields). */
export function booked(f: UsageFigures): Booked {
  const out = { ...NOTHING };
  for (const k of Object.keys(NOTHING) as (keyof Booked)[]) (out as Record<string, unknown>)[k] = f[k];
  return out;
}

/** Sum of the report's daily buckets. */
export const dailySum = (r: UsageReport): Booked => sumBooked(r.daily.map(booked));

/** The report's per-model rows, as counters by model name. */
export function byModel(r: UsageReport): Record<string, Booked> {
  return Object.fromEntries(r.models.map((m) => [m.model, booked(m)]));
}

/**
 * Waits until `read` (a usage report) counts at least `requests`, booked after the answers went out, and returns it.
 */
export function untilBooked(
  read: () => Promise<UsageReport>,
  requests: number,
  timeoutMs?: number,
): Promise<UsageReport> {
  return waitFor(
    async () => {
      const r = await read();
      return r.total.requests >= requests && r;
    },
    { what: `${requests} booked requests`, timeoutMs },
  );
}
