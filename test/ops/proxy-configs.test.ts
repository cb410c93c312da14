import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The shipped proxy configs pass their own validators: `caddy validate` on ops/Caddyfile as it
 * is, and `nginx -t` on ops/nginx.conf inside a minimal main config, with the certificate paths
 * pointed at a throwaway self-signed certificate (the only change). No Redis: run once.
 */
const run = promisify(execFile);

describe.skipIf(inject('redisTarget').kind === 'cluster')('the shipped proxy configs', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crs-proxy-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ops/Caddyfile passes caddy validate and checks readiness', async () => {
    const text = await readFile('ops/Caddyfile', 'utf8');
    expect(text).toMatch(/health_uri \/health\/ready/);
    const { stdout, stderr } = await run('caddy', ['validate', '--config', 'ops/Caddyfile', '--adapter', 'caddyfile'], {
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    });
    expect(stdout + stderr).toContain('Valid configuration');
  });

  it('ops/nginx.conf passes nginx -t, with streams unbuffered and session_id headers kept', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await run('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-keyout', key, '-out', cert, '-subj', '/CN=relay.example.com',
    ]); // prettier-ignore
    const site = await readFile('ops/nginx.conf', 'utf8');
    for (const line of ['underscores_in_headers on;', 'proxy_buffering off;', 'proxy_http_version 1.1;', 'keepalive '])
      expect(site).toContain(line);
    const mine = site.replace('/etc/ssl/relay/fullchain.pem', cert).replace('/etc/ssl/relay/privkey.pem', key);
    expect(mine).not.toBe(site);
    await writeFile(join(dir, 'site.conf'), mine);
    await writeFile(
      join(dir, 'main.conf'),
      [
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'error.log')};`,
        'events {}',
        `http { access_log off; include ${join(dir, 'site.conf')}; }`,
      ].join('\n'),
    );
    const { stderr } = await run('nginx', ['-t', '-c', join(dir, 'main.conf'), '-p', dir]);
    expect(stderr).toContain('test is successful');
  });
});
