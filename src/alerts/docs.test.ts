import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNEL_DRIVERS } from './channels/index.js';
import { loadRulesFile } from './rules.js';
import { SIGNAL_NAMES } from './signal-names.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const doc = readFileSync(path.join(root, 'docs', 'ALERTS.md'), 'utf8');
const rows = doc.split('\n').filter((l) => l.startsWith('| `'));

describe('docs/ALERTS.md', () => {
  it('lists every shipped rule as it is in alerts/rules.yml', () => {
    for (const r of loadRulesFile(path.join(root, 'alerts', 'rules.yml'))) {
      const row = rows.find((l) => l.startsWith(`| \`${r.id}\` |`));
      expect(row, r.id).toBeDefined();
      expect(row).toContain(`\`${r.signal} ${r.op} ${r.threshold}\``);
      expect(row).toContain(`| ${r.severity} |`);
    }
  });

  it('describes every signal and every channel with its fields', () => {
    for (const s of SIGNAL_NAMES) expect(doc, s).toContain(`\`${s}\``);
    for (const [type, driver] of Object.entries(CHANNEL_DRIVERS)) {
      const row = rows.find((l) => l.startsWith(`| \`${type}\` |`));
      expect(row, type).toBeDefined();
      expect(row).toContain(`| ${driver.defaultRatePerMinute} |`);
      for (const f of driver.fields) expect(row, `${type}.${f.name}`).toContain(`\`${f.name}\``);
    }
  });
});
