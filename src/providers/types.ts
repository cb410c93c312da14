import type { OAuthFlow } from '../accounts/oauth/flow.js';
import type { TokenManager } from '../accounts/oauth/tokens.js';
import type { Account, AccountService, Platform } from '../accounts/service.js';
import type { Config } from '../config/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../upstream/types.js';
import type { Operation, WireFormat } from '../wire/index.js';
import type { StreamErrorClass } from './stream-errors.js';

/** What the relay pipeline hands a provider to build the upstream call. */
export interface UpstreamCall {
  account: Account;
  op: Operation;
  /** The format the account speaks for this operation (from `formatFor`); `body` is in it. */
  format: WireFormat;
  /** The model to ask the upstream for (after the account's mapping). */
  model: string;
  stream: boolean;
  /** The body in `format`, with the model mapped: what a provider that reshapes it starts from. */
  json: Readonly<Record<string, unknown>>;
  /** The same body as bytes (the client's own bytes when nothing had to change). */
  body: Buffer;
  /** Raw query string of the client's request, without `?` (e.g. Anthropic's `beta=true`). */
  query: string;
  clientHeaders: Readonly<Record<string, string>>;
}

/** Outcome classes the relay reacts to (failover and cooldowns build on these). */
export type UpstreamErrorClass = 'rate_limited' | 'overloaded' | 'server_error' | 'unauthorized' | 'client_error';

/** A field an account of some type takes at creation: a secret credential or a plain option. */
export interface AccountField {
  name: string;
  required: boolean;
  /** Stored encrypted, never shown (only its last characters). */
  secret: boolean;
  doc: string;
  /** What a value must look like (checked at creation and update; `doc` says it in words). */
  pattern?: RegExp;
}

/** An account type of a platform: what it needs, and what it speaks. */
export interface AccountTypeSpec {
  type: string;
  doc: string;
  fields: readonly AccountField[];
  defaultBaseUrl: string;
}

/**
 * One upstream platform: endpoints and auth per account type, header policy, response decoding,
 * error classes. Adding a platform is a folder under `providers/` plus one registry entry.
 */
export interface Provider {
  readonly platform: Platform;
  readonly types: readonly AccountTypeSpec[];
  /**
   * The wire format this account speaks for an operation; undefined = it cannot do it. An account
   * that speaks several for one operation (OpenAI: Chat Completions and Responses) answers with
   * the one matching `client`, the format the caller speaks, so no bridge is needed.
   */
  formatFor(account: Account, op: Operation, client?: WireFormat): WireFormat | undefined;
  /** Builds the upstream request: URL, auth (API key, OAuth bearer with refresh, SigV4), headers. */
  prepare(call: UpstreamCall): Promise<UpstreamRequest>;
  /** Turns the upstream's body into its format's standard stream (Bedrock event stream → SSE). */
  decode?(res: UpstreamResponse, call: UpstreamCall): UpstreamResponse;
  /** Upstream response headers the client may see. */
  forwardResponseHeader(name: string): boolean;
  /** The class of an upstream error, from its status and (when the status is not enough) its parsed body. */
  classifyError(status: number, errorBody?: unknown): UpstreamErrorClass;
  /** The class of an error event that opened a stream, before anything reached the client. */
  classifyStreamError(type: string): StreamErrorClass;
  /**
   * When the upstream says a rate limit resets (epoch ms), from its response headers or its parsed
   * error body (Google puts a RetryInfo there).
   */
  resetTime(headers: Readonly<Record<string, string>>, now: number, errorBody?: unknown): number | undefined;
  /**
   * After a 401: OAuth accounts refresh their token (under the account's lock, never writing
   * stale credentials) and return true if the same account should be tried once more.
   */
  recoverUnauthorized?(account: Account, usedToken: string | undefined): Promise<boolean>;
  /** The platform's OAuth authorization flow, when it has OAuth accounts. */
  readonly oauth?: OAuthFlow;
}

/** What providers may use at run time. */
export interface ProviderDeps {
  config: Config;
  clock: Clock;
  log: Logger;
  /** OAuth access tokens, refreshed under a per-account lock. */
  tokens: TokenManager;
  /** The relay's upstream HTTP client (keep-alive pools, proxies): for token endpoints and other side calls. */
  http: Upstream;
  /** Accounts, for what a provider learns about one once and keeps (a Google account's Code Assist project). */
  accounts: AccountService;
}
