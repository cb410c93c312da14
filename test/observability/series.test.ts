import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask, inParallel } from '../support/pool.js';
import { parseExposition } from '../support/prom.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import PRICING from '../../src/usage/pricing.json' with { type: 'json' };

/**
 * The series budget (docs/OBSERVABILITY.md): a node with 100 accounts in 5 groups, 20 priced
 * models plus unpriced ones, and 1,000 keys exports fewer than 5,000 series, and 1,000 more keys
 * add none: no family has a key label.
 */

const BUDGET = 5_000;
const ACCOUNTS = 100;
const KEYS = 1_000;
const PRICED = Object.keys((PRICING as { models: Record<string, unknown> }).models)
  .filter((m) => m.startsWith('claude-'))
  .slice(0, 20);
const MODELS = [...PRICED, 'claude-unpriced-a', 'claude-unpriced-b'];

describe('series budget', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ env: { SCHEDULER_STRATEGY: 'round-robin' } });
    const accounts = await inParallel(ACCOUNTS, 10, (i) => addAccount(relay.admin, fake, `s${i}`));
    for (let g = 0; g < 5; g++) {
      const members = accounts.slice(g * 20, g * 20 + 20).map((a) => a.id);
      const r = await relay.admin.request('POST', '/admin/groups', {
        name: `group ${g}`,
        platform: 'claude',
        accountIds: members,
      });
      expect(r.status).toBe(201);
    }
  }, 120_000);
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  const traffic = async (label: string) => {
    const keys = await inParallel(KEYS, 10, (i) => relay.admin.createKey({ name: `${label} ${i}` }));
    const statuses = await inParallel(KEYS, 20, (i) =>
      ask(relay.url, keys[i]?.key ?? '', { model: MODELS[i % MODELS.length], stream: i % 3 === 0 }).then(
        (r) => r.status,
      ),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    return keys;
  };

  const series = async () => parseExposition(await relay.instance.metrics.registry.metrics());

  it('stays under 5,000 series with 100 accounts and 1,000 keys, and more keys add none', async () => {
    const keys = await traffic('first');
    const first = await series();
    const accountsSeen = new Set(
      first.filter((s) => s.name === 'relay_upstream_requests_total').map((s) => s.labels.account_id),
    );
    expect(accountsSeen.size).toBe(ACCOUNTS);
    const models = new Set(first.filter((s) => s.name === 'relay_tokens_total').map((s) => s.labels.model));
    expect(models).toEqual(new Set([...PRICED, 'other']));
    expect(first.length).toBeLessThan(BUDGET);
    const ids = new Set(keys.map((k) => k.id));
    expect(first.filter((s) => Object.values(s.labels).some((v) => ids.has(v)))).toEqual([]);

    await traffic('second');
    const second = await series();
    const names = (samples: typeof first) => new Set(samples.map((s) => `${s.name}${JSON.stringify(s.labels)}`));
    // (The runtime's own GC histogram gains its `kind="major"` series at the first major GC.)
    const added = [...names(second)].filter((n) => !names(first).has(n) && !n.startsWith('nodejs_gc_'));
    expect(added).toEqual([]);
    console.log(`series with ${ACCOUNTS} accounts, ${MODELS.length} models, ${2 * KEYS} keys: ${second.length}`);
  }, 180_000);
});
