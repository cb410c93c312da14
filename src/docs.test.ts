import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from './config/index.js';
import { ERRORS } from './errors/catalogue.js';

/** The README documents every setting and every error code, with the defaults the code uses. */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const rows = (table: string) =>
  new Map(
    [...table.matchAll(/^\| `([A-Za-z0-9_]+)` \| ([^|]*) \|/gm)].map((m) => [m[1] as string, (m[2] ?? '').trim()]),
  );

describe('README', () => {
  const section = (title: string) => {
    const start = readme.indexOf(title);
    expect(start, title).toBeGreaterThanOrEqual(0);
    const end = readme.indexOf('\n## ', start + title.length);
    return readme.slice(start, end < 0 ? undefined : end);
  };

  it('lists every setting with its default, and nothing that is not a setting', () => {
    const documented = rows(section('## Configuration'));
    for (const [name, s] of Object.entries(SETTINGS)) expect(documented.get(name), name).toBe(s.default);
    for (const name of documented.keys()) expect(Object.keys(SETTINGS), name).toContain(name);
  });

  it('lists every error code with its status, and nothing else', () => {
    const documented = rows(section('### Error codes'));
    for (const [code, def] of Object.entries(ERRORS)) {
      expect(documented.has(code), code).toBe(true);
      if (code !== 'upstream_error') expect(documented.get(code), code).toBe(String(def.status));
    }
    for (const code of documented.keys()) expect(Object.keys(ERRORS), code).toContain(code);
  });

  it('has a two-line quick start', () => {
    const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(block.trim().split('\n')).toHaveLength(2);
  });
});

describe('README: upstream accounts', () => {
  it('lists every account type of every platform', async () => {
    const { ACCOUNT_TYPES } = await import('./providers/registry.js');
    const start = readme.indexOf('## Upstream accounts');
    const table = readme.slice(start, readme.indexOf('\n## ', start + 5));
    for (const [platform, types] of Object.entries(ACCOUNT_TYPES)) {
      for (const t of types ?? []) {
        expect(table, `${platform} ${t.type}`).toContain(`| \`${platform}\` | \`${t.type}\` |`);
        const row = table.split('\n').find((l) => l.startsWith(`| \`${platform}\` | \`${t.type}\` |`)) ?? '';
        for (const f of t.fields) expect(row, `${platform} ${t.type} ${f.name}`).toContain(`\`${f.name}\``);
      }
    }
  });
});
