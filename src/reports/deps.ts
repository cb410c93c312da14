import type { GroupService } from '../accounts/groups.js';
import type { AccountService } from '../accounts/service.js';
import type { RedisTarget } from '../config/index.js';
import type { ApiKeyService } from '../keys/service.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import type { WorkPool } from '../work/pool.js';

/** What reports and exports read from. */
export interface ReportDeps {
  store: Store;
  keys: Pick<ApiKeyService, 'list' | 'get'>;
  accounts: Pick<AccountService, 'list' | 'get'>;
  groups: Pick<GroupService, 'get'>;
  work: WorkPool;
  /** The process's own Redis, for exports whose pool threads open a connection (reports do not). */
  redisTarget: RedisTarget;
  timeZone: string;
  clock: Clock;
}
