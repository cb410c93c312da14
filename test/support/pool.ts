import { randomBytes } from 'node:crypto';
import type { FakeAnthropic } from '../fakes/anthropic.js';
import type { AdminClient } from './relay.js';
import { readReply } from './reply.js';
import { waitFor } from './wait.js';

/**
 * Helpers for the account-pool and key-limit tests: accounts on one fake upstream told apart by
 * their upstream API keys, relay calls that return status, headers and body, and which account
 * served what (read from the fake's request log, so the relay's own reporting is not trusted).
 */

export const SONNET = 'claude-sonnet-4-5';
export const OPUS = 'claude-opus-4-5';
/** The fake's default usage priced from the published rates (25 in, 12 out): sonnet $3/$15, opus $5/$25. */
export const SONNET_COST = (25 * 3 + 12 * 15) / 1e6;
export const OPUS_COST = (25 * 5 + 12 * 25) / 1e6;

export const iso = (ms: number) => new Date(ms).toISOString();

export interface PoolAccount {
  id: string;
  name: string;
  /** The upstream API key: what the fake records for requests this account served. */
  apiKey: string;
}

/** Creates a Claude API-key account pointing at the fake, with its own upstream key. */
export async function addAccount(
  admin: AdminClient,
  fake: FakeAnthropic,
  name: string,
  settings: Record<string, unknown> = {},
): Promise<PoolAccount> {
  const apiKey = `sk-ant-pool-${name}-${randomBytes(8).toString('hex')}`;
  const { id } = await admin.createAccount({ name, apiKey, baseUrl: fake.url, ...settings });
  return { id, name, apiKey };
}

let seq = 0;
/** Text nobody sent before: a request with it opens a conversation of its own (its own sticky session). */
export const fresh = (label = 'q') =>
  `${label}-${process.pid}-${Date.now()}-${++seq}-${randomBytes(3).toString('hex')}`;

export interface AskOptions {
  model?: string;
  /** The first user message; a fresh one (a new conversation) when absent. */
  content?: string;
  /** Replaces the whole body (model and messages included). */
  body?: Record<string, unknown>;
  stream?: boolean;
  headers?: Record<string, string>;
  path?: string;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON when it is JSON. */
  json: Record<string, unknown> | null;
  /** `error.message` of an error body. */
  message: string;
  /** `error.type` of an error body. */
  type: string;
}

/** One Messages call through the relay's Anthropic surface. */
export async function ask(url: string, key: string, opts: AskOptions = {}): Promise<Answer> {
  const body = opts.body ?? {
    model: opts.model ?? SONNET,
    max_tokens: 32,
    ...(opts.stream ? { stream: true } : {}),
    messages: [{ role: 'user', content: opts.content ?? fresh() }],
  };
  const res = await fetch(`${url}${opts.path ?? '/api/v1/messages'}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': key,
      ...opts.headers,
    },
    body: JSON.stringify(body),
  });
  const reply = await readReply<Record<string, unknown> | null>(res, null);
  const error = (reply.json?.error ?? {}) as { message?: unknown; type?: unknown };
  return {
    ...reply,
    message: typeof error.message === 'string' ? error.message : '',
    type: typeof error.type === 'string' ? error.type : '',
  };
}

/** The upstream keys of the requests the fake received from index `from` on, in order. */
export const servedKeys = (fake: FakeAnthropic, from = 0): string[] => fake.requests.slice(from).map((r) => r.apiKey);

/** The account whose upstream key made the fake's last request. */
export function lastServer(fake: FakeAnthropic, accounts: readonly PoolAccount[]): PoolAccount | undefined {
  const key = fake.requests[fake.requests.length - 1]?.apiKey;
  return accounts.find((a) => a.apiKey === key);
}

/** How many of the fake's requests (from index `from`) each account made. */
export function tally(fake: FakeAnthropic, accounts: readonly PoolAccount[], from = 0): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(accounts.map((a) => [a.name, 0]));
  for (const k of servedKeys(fake, from)) {
    const a = accounts.find((x) => x.apiKey === k);
    out[a ? a.name : `unknown:${k}`] = (out[a ? a.name : `unknown:${k}`] ?? 0) + 1;
  }
  return out;
}

export interface HealthBody {
  id: string;
  model: string | null;
  routable: boolean;
  recoverable: boolean;
  inFlight: number;
  blockers: { reason: string; scope: string; until: string | null; detail?: string }[];
}

/** GET /admin/accounts/:id/health (optionally for one model). */
export async function health(admin: AdminClient, id: string, model?: string): Promise<HealthBody> {
  const res = await admin.request<HealthBody>(
    'GET',
    `/admin/accounts/${id}/health${model ? `?model=${encodeURIComponent(model)}` : ''}`,
  );
  if (res.status !== 200) throw new Error(`health ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function resetAccount(admin: AdminClient, id: string): Promise<void> {
  const res = await admin.request('POST', `/admin/accounts/${id}/reset`);
  if (res.status !== 200) throw new Error(`reset ${id}: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function patch(
  admin: AdminClient,
  path: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await admin.request('PATCH', path, body);
  if (res.status !== 200) throw new Error(`PATCH ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * Polls `probe` every 20 ms until it returns something other than undefined/false; throws after the deadline
 * (`waitFor`, description first).
 */
export function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5_000,
): Promise<T> {
  return waitFor(probe, { what, timeoutMs, intervalMs: 20 });
}

/** Runs `n` tasks with at most `width` at once; results in task order. */
export async function inParallel<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}
