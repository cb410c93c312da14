import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

describe('the project documents itself inside the repository', () => {
  const root = new URL('../', import.meta.url);
  const docs = ['README.md', 'docs/ARCHITECTURE.md', 'bench/README.md', 'alerts/README.md', 'grafana/README.md'].filter(
    (f) => existsSync(new URL(f, root)),
  );

  it.each(docs)('every relative link of %s resolves to a file of the repository', (doc) => {
    const text = readFileSync(new URL(doc, root), 'utf8');
    const base = new URL(doc, root);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^(https?:|mailto:|#)/.test(target)) continue;
      const resolved = new URL(target.split('#')[0] ?? '', base);
      expect(resolved.href.startsWith(root.href), `${doc}: ${target} leaves the repository`).toBe(true);
      expect(existsSync(resolved), `${doc}: ${target} does not exist`).toBe(true);
    }
  });
});

describe('docs/ARCHITECTURE.md', () => {
  const text = readFileSync(new URL('../docs/ARCHITECTURE.md', import.meta.url), 'utf8');
  const BASE = ['config', 'errors', 'util', 'work', 'ids', 'version'];

  it("has a row for every floor, and its 'may use' column is docs/floors.js", async () => {
    const { FLOORS } = await import('../docs/floors.js');
    const rows = new Map(
      [...text.matchAll(/^\| `([\w-]+)(?:\/|\.ts)(?:<platform>\/)?` (?:\*\(next\)\* )?\| [^|]+ \| ([^|]+) \|$/gm)].map(
        (m) => [m[1] as string, (m[2] ?? '').trim()],
      ),
    );
    expect([...rows.keys()].sort()).toEqual(Object.keys(FLOORS).sort());
    for (const [folder, mayUse] of rows) {
      const listed = mayUse === '—' ? [] : mayUse.split(/\s*[+,]\s*/).flatMap((w) => (w === 'base' ? BASE : [w]));
      expect(new Set(listed), folder).toEqual(new Set(FLOORS[folder]));
    }
  });

  it('every folder and root file of src/ has a floor', async () => {
    const { FLOORS } = await import('../docs/floors.js');
    const entries = readdirSync(new URL('./', import.meta.url), { withFileTypes: true })
      .map((e) =>
        e.isDirectory() ? e.name : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? e.name.slice(0, -3) : '',
      )
      .filter(Boolean);
    for (const name of entries) expect(Object.keys(FLOORS), name).toContain(name);
  });
});
