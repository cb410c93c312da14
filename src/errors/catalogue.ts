/**
 * Every error the relay itself produces: a stable code, its HTTP status, its class, and a default
 * message. Rendered once at the edge in the caller's API shape (see render.ts). The README's error
 * table lists every code; a test keeps the two in step.
 */
export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'too_large'
  | 'rate_limit'
  | 'billing'
  | 'api'
  | 'overloaded'
  | 'unavailable'
  | 'timeout';

export interface ErrorDef {
  status: number;
  kind: ErrorKind;
  message: string;
}

export const ERRORS = {
  missing_api_key: {
    status: 401,
    kind: 'authentication',
    message: 'Missing API key: send your relay key in x-api-key or Authorization: Bearer.',
  },
  invalid_api_key: { status: 401, kind: 'authentication', message: 'Invalid API key.' },
  disabled_api_key: { status: 401, kind: 'authentication', message: 'This API key is disabled.' },
  expired_api_key: { status: 401, kind: 'authentication', message: 'This API key has expired.' },
  too_many_key_failures: {
    status: 429,
    kind: 'rate_limit',
    message: 'Too many invalid API keys from your address; try again later.',
  },
  invalid_json: { status: 400, kind: 'invalid_request', message: 'The request body is not valid JSON.' },
  invalid_request: { status: 400, kind: 'invalid_request', message: 'The request is invalid.' },
  body_too_large: { status: 413, kind: 'too_large', message: 'The request body is larger than this relay accepts.' },
  not_found: { status: 404, kind: 'not_found', message: 'No such route.' },
  platform_not_allowed: { status: 403, kind: 'permission', message: 'This API key may not use this platform.' },
  model_not_allowed: { status: 403, kind: 'permission', message: 'This API key may not use this model.' },
  client_not_allowed: { status: 403, kind: 'permission', message: 'This API key may not be used from this client.' },
  rate_limited: { status: 429, kind: 'rate_limit', message: 'This API key reached its rate limit.' },
  concurrency_limited: { status: 429, kind: 'rate_limit', message: 'This API key has too many requests in flight.' },
  budget_exceeded: { status: 402, kind: 'billing', message: 'This API key reached its cost limit.' },
  no_account_available: {
    status: 503,
    kind: 'unavailable',
    message: 'No upstream account is available for this request.',
  },
  accounts_rate_limited: {
    status: 429,
    kind: 'rate_limit',
    message: 'Every upstream account for this request is rate limited or cooling down.',
  },
  upstream_unreachable: { status: 502, kind: 'api', message: 'The upstream could not be reached.' },
  upstream_timeout: { status: 504, kind: 'timeout', message: 'The upstream did not answer in time.' },
  upstream_error: { status: 502, kind: 'api', message: 'The upstream returned an error.' },
  store_unavailable: {
    status: 503,
    kind: 'unavailable',
    message: 'The relay cannot reach its database right now; retry shortly.',
  },
  shutting_down: {
    status: 503,
    kind: 'unavailable',
    message: 'The relay is restarting and could not finish this request; retry it.',
  },
  internal_error: { status: 500, kind: 'api', message: 'Internal error.' },
  admin_unauthorized: {
    status: 401,
    kind: 'authentication',
    message: 'Admin login required: send Authorization: Bearer <token> from POST /admin/login.',
  },
  admin_bad_credentials: { status: 401, kind: 'authentication', message: 'Wrong user name or password.' },
  admin_login_throttled: { status: 429, kind: 'rate_limit', message: 'Too many failed logins; try again later.' },
  admin_not_found: { status: 404, kind: 'not_found', message: 'Not found.' },
  admin_invalid: { status: 400, kind: 'invalid_request', message: 'Invalid request.' },
  admin_conflict: {
    status: 409,
    kind: 'invalid_request',
    message: 'Something else is working on this right now; retry shortly.',
  },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a catalogue code; `status` may be overridden (an upstream's own status). */
export class RelayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers (e.g. retry-after). */
  readonly headers: Readonly<Record<string, string>>;

  /** The error's class (an upstream error takes the class of the upstream's status). */
  readonly kind: ErrorKind;

  constructor(
    code: ErrorCode,
    opts: {
      message?: string;
      status?: number;
      headers?: Record<string, string>;
      kind?: ErrorKind;
      cause?: unknown;
    } = {},
  ) {
    super(opts.message ?? ERRORS[code].message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RelayError';
    this.code = code;
    this.status = opts.status ?? ERRORS[code].status;
    this.headers = opts.headers ?? {};
    this.kind = opts.kind ?? ERRORS[code].kind;
  }
}
