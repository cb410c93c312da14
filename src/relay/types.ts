import type { AccountService, Platform } from '../accounts/service.js';
import type { ApiShape } from '../errors/render.js';
import type { RequestId } from '../ids.js';
import type { ApiKeyService } from '../keys/service.js';
import type { Scheduler } from '../scheduler/index.js';
import type { Pricing } from '../usage/pricing.js';
import type { UsageRecorder } from '../usage/recorder.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { Upstream } from './dispatch.js';

/** Everything the pipeline uses, passed in explicitly. */
export interface RelayDeps {
  keys: ApiKeyService;
  accounts: AccountService;
  scheduler: Scheduler;
  upstream: Upstream;
  recorder: UsageRecorder;
  /** Read on every booking so a refreshed table applies at once. */
  pricing(): Pricing;
  clock: Clock;
  log: Logger;
  nextRequestId(): RequestId;
  bodyLimitBytes: number;
}

/** What a client request means, once its body is read and validated. */
export interface ParsedRequest {
  model: string;
  stream: boolean;
}

/**
 * A client-facing API: its error shape, the platform it goes to, the upstream path, whether it is
 * booked, and how its body is validated.
 */
export interface Surface {
  readonly name: string;
  readonly shape: ApiShape;
  readonly platform: Platform;
  readonly upstreamPath: string;
  /** count_tokens and similar are free upstream and not booked. */
  readonly booked: boolean;
  parse(body: Buffer): ParsedRequest;
}
