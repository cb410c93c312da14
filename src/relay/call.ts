import type { Account } from '../accounts/service.js';
import type { ApiKeyRecord } from '../keys/service.js';
import type { Provider } from '../providers/types.js';
import type { Bridge, BridgeContext } from '../translate/index.js';
import type { WireFormat } from '../wire/index.js';
import type { Exchange } from './exchange.js';
import type { Trace } from './trace.js';
import type { ParsedRequest, RelayDeps, Surface } from './types.js';

/** One request on its way through, once it has an account: what sending, writing and booking need. */
export interface Call {
  readonly ex: Exchange;
  readonly deps: RelayDeps;
  readonly surface: Surface;
  readonly requestId: string;
  readonly startedAt: number;
  readonly key: ApiKeyRecord;
  readonly parsed: ParsedRequest;
  /** The client's query string, parsed once. */
  readonly query: URLSearchParams;
  /** What the request did so far, for its access line, metrics and history. */
  readonly trace: Trace;
  /** The prompt estimate reserved in the key's token window; the first booking takes it over. */
  readonly reservation: { tokens: number };
  readonly account: Account;
  readonly provider: Provider;
  /** The format the upstream answers in (usage is read in it). */
  readonly format: WireFormat;
  /** Translates the answer into the client's format, when the two differ. */
  readonly bridge: Bridge | undefined;
  readonly bridgeContext: BridgeContext;
  ttfbMs: number | null;
  /** What to do when the client goes away, or the server stops waiting; set by the phase the call is in. */
  onClientGone: () => void;
  onInterrupt: () => void;
}

/** The request-wide part of a call; an attempt adds the account. */
export type CallBase = Omit<
  Call,
  'account' | 'provider' | 'format' | 'bridge' | 'bridgeContext' | 'ttfbMs' | 'onClientGone' | 'onInterrupt'
>;
