import { CredentialsRejected } from '../accounts/oauth/tokens.js';
import type { Account } from '../accounts/service.js';
import { RelayError } from '../errors/catalogue.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Provider, UpstreamCall } from '../providers/types.js';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../upstream/types.js';
import { ZERO_USAGE, type Pricing, type TokenUsage } from '../usage/pricing.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { usageReader } from '../wire/index.js';
import type { ProbeEnd } from './decide.js';
import { probeCall, probeModel } from './request.js';

/** An answer's body is read up to this much (a probe's answer is a few hundred bytes). */
const MAX_BODY = 256 * 1024;

/** How the probe went on the wire: its end, what the upstream reported using, and a reset time after a 429. */
export interface Sent {
  end: ProbeEnd;
  model: string;
  usage: TokenUsage;
  resetAt: number | undefined;
}

type Deps = { providers: ProviderRegistry; upstream: Upstream; pricing(): Pricing; clock: Clock; log: Logger };

/**
 * Sends the probe through the account's provider (its URL, auth with OAuth refresh, SigV4) on the
 * relay's upstream client, bounded as a whole by `timeoutMs`. Like a relay attempt, an OAuth
 * account answering 401 refreshes and goes once more. The body of an error is read only to
 * classify it and find a reset time; none of it is kept.
 */
export async function sendProbe(deps: Deps, account: Account, timeoutMs: number): Promise<Sent> {
  const provider = deps.providers.forAccount(account);
  const model = probeModel(account, deps.pricing());
  const call = provider ? probeCall(account, provider, model) : undefined;
  const none = { model: model.upstream, usage: { ...ZERO_USAGE }, resetAt: undefined };
  if (!provider || !call) return { ...none, end: { kind: 'unsupported' } };
  const signal = AbortSignal.timeout(timeoutMs);
  const failed = (kind: 'timeout' | 'unreachable' | 'no_credentials' | 'auth_unavailable'): Sent => ({
    ...none,
    end: { kind },
  });

  for (let tries = 0; ; tries++) {
    let prepared: UpstreamRequest;
    try {
      prepared = await provider.prepare(call);
    } catch (err) {
      // A rejected refresh token has marked the account unauthorized already (the token manager).
      if (err instanceof CredentialsRejected) return failed('no_credentials');
      deps.log.warn('probe request could not be prepared', { accountId: account.id, err });
      return failed('auth_unavailable');
    }
    let res: UpstreamResponse;
    try {
      res = await deps.upstream.send(prepared, signal);
    } catch (err) {
      return failed(
        signal.aborted || (err instanceof RelayError && err.code === 'upstream_timeout') ? 'timeout' : 'unreachable',
      );
    }
    if (
      res.statusCode === 401 &&
      tries === 0 &&
      provider.recoverUnauthorized &&
      (await provider.recoverUnauthorized(account, prepared.authToken))
    ) {
      res.body.resume();
      continue;
    }
    return answered(provider, call, res, signal, deps.clock.now(), none);
  }
}

async function answered(
  provider: Provider,
  call: UpstreamCall,
  raw: UpstreamResponse,
  signal: AbortSignal,
  now: number,
  none: Omit<Sent, 'end'>,
): Promise<Sent> {
  const res = provider.decode ? provider.decode(raw, call) : raw;
  const status = res.statusCode;
  let parsed: unknown;
  try {
    parsed = parseJson(await readBody(res));
  } catch {
    // A body that broke off or went silent: the answer never came whole.
    return { ...none, end: { kind: signal.aborted ? 'timeout' : 'unreachable' } };
  }
  if (status >= 400) {
    return {
      ...none,
      end: { kind: 'answered', status, errorClass: provider.classifyError(status, parsed) },
      resetAt: provider.resetTime(stringHeaders(raw), now, parsed),
    };
  }
  const found = usageReader(call.format).fromJson(parsed);
  return {
    end: { kind: 'answered', status },
    model: found.model ?? call.model,
    usage: found.usage,
    resetAt: undefined,
  };
}

async function readBody(res: UpstreamResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

const stringHeaders = (res: UpstreamResponse): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
  return out;
};
