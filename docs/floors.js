/**
 * The floors of src/, as data: each folder (or root file) and the folders it may use. The "may
 * use" column of docs/ARCHITECTURE.md is this table; ESLint (eslint.config.js) enforces it, so an
 * import that inverts a floor fails `npm run lint`. Read from the bottom up: a folder names only
 * folders listed below it. Folders the next issues add (metrics, alerts, jobs, reports,
 * stats-api) have their row already.
 */
const BOTTOM = ['config', 'errors', 'ids', 'version'];
const BASE = [...BOTTOM, 'util', 'work'];

export const FLOORS = {
  // floor 0: depend on nothing
  config: [],
  errors: [],
  ids: [],
  version: [],
  // floor 1
  util: ['config'],
  // the thread pool for CPU-heavy work (piscina); every floor above may hand work to it
  work: [],
  metrics: BASE,
  // floor 2: Redis, and the HTTP client towards upstreams
  store: BASE,
  upstream: BASE,
  // floor 3: records and counters, each on the store
  events: [...BASE, 'store'],
  keys: [...BASE, 'store'],
  leases: [...BASE, 'store'],
  usage: [...BASE, 'store', 'metrics'],
  // floor 4
  wire: [...BASE, 'usage'],
  accounts: [...BASE, 'store', 'events', 'upstream'],
  reports: [...BASE, 'store', 'usage', 'keys', 'accounts'],
  // floor 5: the parts of the pipeline
  // prompt token estimates before the upstream answers (admission, local count_tokens)
  tokens: [...BASE, 'wire'],
  translate: [...BASE, 'wire', 'usage'],
  limits: [...BASE, 'store', 'keys', 'leases', 'usage'],
  scheduler: [...BASE, 'store', 'accounts', 'keys', 'leases', 'metrics'],
  providers: [...BASE, 'accounts', 'upstream', 'wire'],
  alerts: [...BASE, 'store', 'events', 'accounts', 'keys', 'usage', 'metrics'],
  probes: [...BASE, 'store', 'events', 'accounts', 'usage', 'upstream', 'wire', 'providers', 'metrics'],
  // floor 6: the pipeline, the admin API, the key holders' API
  relay: [
    ...BASE,
    'store',
    'events',
    'keys',
    'leases',
    'usage',
    'wire',
    'accounts',
    'translate',
    'tokens',
    'limits',
    'scheduler',
    'providers',
    'upstream',
    'metrics',
  ],
  admin: [
    ...BASE,
    'store',
    'events',
    'keys',
    'leases',
    'usage',
    'accounts',
    'reports',
    'limits',
    'scheduler',
    'providers',
    'probes',
    'alerts',
    'metrics',
  ],
  'stats-api': [...BASE, 'store', 'keys', 'usage', 'reports', 'limits'],
  // floor 7: the HTTP front end serves them all
  server: [
    ...BASE,
    'store',
    'events',
    'keys',
    'leases',
    'usage',
    'accounts',
    'limits',
    'scheduler',
    'providers',
    'upstream',
    'relay',
    'admin',
    'stats-api',
    'reports',
    'probes',
    'alerts',
    'metrics',
  ],
  // floor 8: periodic work, once per deployment
  jobs: [
    ...BASE,
    'store',
    'events',
    'keys',
    'usage',
    'accounts',
    'reports',
    'providers',
    'upstream',
    'probes',
    'alerts',
    'metrics',
  ],
  // floor 9: processes and the command line
  primary: [...BASE, 'store', 'admin', 'jobs', 'metrics'],
  cli: [
    ...BASE,
    'store',
    'keys',
    'leases',
    'usage',
    'accounts',
    'reports',
    'limits',
    'scheduler',
    'providers',
    'alerts',
    'admin',
    'primary',
  ],
  main: [...BASE, 'store', 'primary', 'server'],
};

/** Entries of FLOORS that are single files at the root of src/ rather than folders. */
export const ROOT_FILES = ['ids', 'version', 'main'];
