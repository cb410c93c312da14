import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/util/clock.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import {
  addAccount,
  ask,
  fresh,
  lastServer,
  patch,
  resetAccount,
  servedKeys,
  SONNET,
  tally,
  type PoolAccount,
} from '../support/pool.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * Sticky sessions: a conversation stays on one account of a shared pool (least recently used, the
 * default strategy), identified by its session header, the session in metadata.user_id, or its
 * opener; the mapping is re-validated on every turn and moves when its account cannot serve; it
 * expires STICKY_TTL (1h) after it was last set and is renewed by turns in its last 15 minutes.
 * The clock moves 1ms per request, as real requests take at least that.
 */

const MIN = 60_000;

interface Conversation {
  name: string;
  /** The body and headers of turn n (1-based). */
  turn(n: number): { body: Record<string, unknown>; headers?: Record<string, string> };
}

/** Every turn sends different text: only the session header ties the turns together. */
const byHeader = (name: string): Conversation => {
  const id = randomUUID();
  return {
    name,
    turn: () => ({ body: body([{ role: 'user', content: fresh(name) }]), headers: { 'x-claude-code-session-id': id } }),
  };
};

/** Claude Code's metadata.user_id (a JSON string with session_id), or the legacy underscore form. */
const byMetadata = (name: string, legacy = false): Conversation => {
  const session = randomUUID();
  const userId = legacy
    ? `user_${'ab'.repeat(32)}_account_${randomUUID()}_session_${session}`
    : JSON.stringify({ device_id: 'ab'.repeat(32), account_uuid: randomUUID(), session_id: session });
  return {
    name,
    turn: () => ({ body: { ...body([{ role: 'user', content: fresh(name) }]), metadata: { user_id: userId } } }),
  };
};

/** No id at all: the same system prompt and first message, the history growing every turn. */
const byOpener = (name: string): Conversation => {
  const system = `You are ${fresh(name)}.`;
  const opener = fresh(name);
  return {
    name,
    turn: (n) => {
      const messages: { role: string; content: string }[] = [{ role: 'user', content: opener }];
      for (let i = 2; i <= n; i++)
        messages.push({ role: 'assistant', content: `answer ${i - 1}` }, { role: 'user', content: `follow-up ${i}` });
      return { body: { ...body(messages), system } };
    },
  };
};

/** A small seeded PRNG (mulberry32): the same interleaving on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const body = (messages: { role: string; content: string }[]) => ({ model: SONNET, max_tokens: 32, messages });

describe('sticky sessions', () => {
  const clock = manualClock();
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let pool: PoolAccount[];
  let key: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ clock });
    pool = [];
    for (const name of ['a', 'b', 'c']) pool.push(await addAccount(relay.admin, fake, name));
    key = (await relay.admin.createKey()).key;
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  /** Sends turn n of a conversation; returns the account that served it. */
  async function say(c: Conversation, n: number): Promise<PoolAccount> {
    clock.advance(1);
    const { body, headers } = c.turn(n);
    const res = await ask(relay.url, key, { body, headers });
    expect(res.status, res.text).toBe(200);
    const served = lastServer(fake, pool);
    if (!served) throw new Error(`turn ${n} of ${c.name} was not served by a pool account`);
    return served;
  }
  /** A request of a conversation of its own. */
  const stranger = () => say(byHeader(fresh('stranger')), 1);

  it('keeps each conversation on one account for 50 turns while other sessions spread over the pool', async () => {
    const conversations = [byHeader('header'), byMetadata('metadata'), byMetadata('legacy', true), byOpener('opener')];
    const seen = new Map<string, Set<string>>(conversations.map((c) => [c.name, new Set()]));
    const from = fake.requests.length;
    const strangers: string[] = [];
    const random = seeded(20261127);
    for (let n = 1; n <= 50; n++) {
      // a different order every round, and strangers in between
      const order = [...conversations].sort(() => random() - 0.5);
      for (const c of order) {
        seen.get(c.name)?.add((await say(c, n)).name);
        if (random() < 0.5) strangers.push((await stranger()).name);
      }
      strangers.push((await stranger()).name);
    }
    for (const [name, accounts] of seen) expect([...accounts], name).toHaveLength(1);
    // The conversations did not all land on one account (two new sessions in a row never do under LRU).
    expect(new Set([...seen.values()].map((s) => [...s][0])).size).toBeGreaterThanOrEqual(2);
    // The other sessions were spread over the whole pool.
    for (const a of pool)
      expect(
        strangers.filter((s) => s === a.name).length,
        JSON.stringify(tally(fake, pool, from)),
      ).toBeGreaterThanOrEqual(strangers.length / 6);
  });

  it('moves a conversation whose account is disabled; later turns stay on the new account', async () => {
    const c = byHeader('disabled');
    const first = await say(c, 1);
    await patch(relay.admin, `/admin/accounts/${first.id}`, { active: false });
    const second = await say(c, 2);
    expect(second.name).not.toBe(first.name);
    await patch(relay.admin, `/admin/accounts/${first.id}`, { active: true });
    for (let n = 3; n <= 8; n++) expect((await say(c, n)).name).toBe(second.name);
  });

  it('moves a conversation whose account answers 429 (within the request); later turns stay on the new account', async () => {
    const c = byOpener('cooled');
    const first = await say(c, 1);
    fake.script(first.apiKey, { kind: 'error', status: 429, headers: { 'retry-after': '30' } });
    const from = fake.requests.length;
    const second = await say(c, 2);
    expect(servedKeys(fake, from)).toEqual([first.apiKey, second.apiKey]);
    expect(second.name).not.toBe(first.name);
    // Even once the first account is healthy again, the conversation stays where it went.
    clock.advance(MIN);
    await resetAccount(relay.admin, first.id);
    for (let n = 3; n <= 8; n++) expect((await say(c, n)).name).toBe(second.name);
  });

  it('moves a conversation whose account is deleted; later turns stay on the new account', async () => {
    const doomed = await addAccount(relay.admin, fake, 'doomed');
    pool.push(doomed);
    const c = byMetadata('deleted');
    // never used, so least recently used: the conversation lands on it
    expect((await say(c, 1)).name).toBe('doomed');
    expect((await relay.admin.request('DELETE', `/admin/accounts/${doomed.id}`)).status).toBe(204);
    const second = await say(c, 2);
    expect(second.name).not.toBe('doomed');
    for (let n = 3; n <= 8; n++) expect((await say(c, n)).name).toBe(second.name);
  });

  it('holds across relay instances of one deployment: turns alternating between two instances stay on one account', async () => {
    const other = await startTestRelay({ prefix: relay.config.redisKeyPrefix, clock });
    try {
      const c = byMetadata('two-instances');
      const accounts = new Set<string>();
      for (let n = 1; n <= 20; n++) {
        clock.advance(1);
        const { body, headers } = c.turn(n);
        const res = await ask((n % 2 ? other : relay).url, key, { body, headers });
        expect(res.status, res.text).toBe(200);
        accounts.add(lastServer(fake, pool)?.name ?? '?');
      }
      expect([...accounts]).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('expires STICKY_TTL after it was set: the conversation moves to the least recently used account', async () => {
    const c = byHeader('expiring');
    const stuck = await say(c, 1);
    for (let n = 2; n <= 4; n++) expect((await say(c, n)).name).toBe(stuck.name);
    // The least recently used account now (the conversation's own is the most recent).
    const history = servedKeys(fake);
    const active = pool.filter((a) => a.name !== 'doomed');
    const lastUse = (a: PoolAccount) => history.lastIndexOf(a.apiKey);
    const lru = [...active].sort((x, y) => lastUse(x) - lastUse(y))[0] as PoolAccount;
    expect(lru.name).not.toBe(stuck.name);

    clock.advance(60 * MIN + 1);
    const moved = await say(c, 5);
    expect(moved.name).toBe(lru.name);
    for (let n = 6; n <= 8; n++) expect((await say(c, n)).name).toBe(lru.name);
  });

  it('is renewed by turns in its last 15 minutes, so an active conversation outlives the first TTL', async () => {
    const c = byOpener('renewed');
    const stuck = await say(c, 1);
    // Each turn comes 50 minutes after the previous one: 10 minutes before the mapping would
    // expire. 3h20m in all, far past the first hour; between turns nothing else runs, so the
    // conversation's account is always the most recently used and a fresh choice would be another.
    for (let n = 2; n <= 5; n++) {
      clock.advance(50 * MIN);
      expect((await say(c, n)).name, `turn ${n}`).toBe(stuck.name);
    }
  });
});
