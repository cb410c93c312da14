import { isIP } from 'node:net';

/** Whether an address to bind is reachable only from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** What a first user needs once the relay is up: where it is, where the admin API is, what to do next. */
export function readyBanner(info: {
  host: string;
  port: number;
  workers: number;
  redis: string;
  dataDir: string;
}): string {
  const anyAddress = info.host === '0.0.0.0' || info.host === '::' || info.host === '';
  const local = `http://${anyAddress || isLoopback(info.host) ? '127.0.0.1' : info.host.includes(':') ? `[${info.host}]` : info.host}:${info.port}`;
  const where = anyAddress ? `every address of this machine, port ${info.port}` : `${info.host}:${info.port}`;
  const redis = info.redis === 'embedded' ? `embedded Redis in ${info.dataDir}` : `${info.redis} Redis`;
  return [
    '',
    `  Relay ready on ${where} (${info.workers} worker${info.workers === 1 ? '' : 's'}, ${redis}).`,
    `    Clients:   ${local}/api (Anthropic), ${local}/openai/v1, ${local}/gemini — see the README for each client`,
    `    Admin API: ${local}/admin  (POST /admin/login with the admin user; or: npm run cli -- help)`,
    '    Next:      log in, add an upstream account (POST /admin/accounts), create a relay key (POST /admin/api-keys)',
    '    Stop:      Ctrl-C or SIGTERM: requests in flight finish, usage is written, then the relay exits.',
    '',
    '',
  ].join('\n');
}
