// PM2: run the primary in fork mode; it forks the uWS workers itself (PM2's cluster mode cannot
// share a uWS listening socket). Signals go to the primary only (treekill: false), which drains
// the workers and stops the embedded Redis last; kill_timeout leaves room for DRAIN_TIMEOUT.
// An ES module (the package is "type": "module"); PM2 require()s it, which Node >= 20.19 allows,
// and reads the named `apps` export. Settings (PORT, REDIS_URL, ...) come from the environment
// `pm2 start` runs in; only NODE_ENV is set here.
export const apps = [
  {
    name: 'claude-relay-service',
    script: 'dist/main.js',
    exec_mode: 'fork',
    instances: 1,
    treekill: false,
    kill_timeout: 45_000,
    max_restarts: 20,
    restart_delay: 2_000,
    env: {
      NODE_ENV: 'production',
    },
  },
];
