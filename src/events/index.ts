import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** Things an operator may want to be alerted about. The alert engine reads them from Redis. */
export type RelayEventType =
  | 'account.unauthorized'
  | 'account.rate_limited'
  | 'account.overloaded'
  | 'account.breaker_open'
  | 'account.breaker_closed'
  | 'account.reset'
  | 'account.refresh_failed'
  | 'account.refreshed'
  | 'account.auto_disabled'
  | 'account.auto_enabled'
  | 'account.probe_failed';

export interface RelayEvent {
  type: RelayEventType;
  at: number;
  [field: string]: string | number | boolean | null;
}

export interface EventSink {
  emit(type: RelayEventType, fields: Record<string, string | number | boolean | null>): void;
}

/** Keeps the last ~10,000 events in a Redis stream; emitting never blocks or fails a request. */
export function createEventSink(deps: { store: Store; clock: Clock; log: Logger }): EventSink {
  const { store, clock, log } = deps;
  return {
    emit(type, fields) {
      const event: RelayEvent = { type, at: clock.now(), ...fields };
      store.redis
        .xadd(store.keys.events(), 'MAXLEN', '~', '10000', '*', 'event', JSON.stringify(event))
        .catch((err: unknown) => log.warn('event not recorded', { type, err }));
    },
  };
}
