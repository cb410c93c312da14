import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { AdminClient, startTestRelay, testEnv, uniquePrefix, type TestRelay } from '../support/relay.js';
import {
  freePort,
  freshRequest,
  health,
  isAlive,
  pollUntil,
  probeConnect,
  spawnRelay,
  type RelayProcess,
} from './process.js';

/**
 * The real relay process with two cluster workers: connections spread over both, a killed worker
 * comes back, SIGTERM drains (a running stream finishes and is booked, new connections are
 * refused, exit 0), and a bad setting stops the boot with exit 2.
 */

const UPSTREAM_KEY = 'sk-ant-e2e-cluster-00000000000000';
const MODEL = 'claude-sonnet-4-5';

interface StreamResult {
  status: number;
  text: string;
  events: { event: string; data: Record<string, unknown> }[];
}

/** A streamed Messages call on a connection of its own; `started` resolves on the first body bytes. */
function streamMessage(url: string, apiKey: string) {
  let onFirst: () => void = () => {};
  const started = new Promise<void>((resolve) => (onFirst = resolve));
  const done = new Promise<StreamResult>((resolve, reject) => {
    const req = http.request(
      `${url}/api/v1/messages`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
      },
      (res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          raw += d;
          onFirst();
        });
        res.on('error', reject);
        res.on('end', () => {
          const events = raw
            .split('\n\n')
            .filter((block) => block.trim() !== '')
            .map((block) => {
              const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
              const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as Record<string, unknown>;
              return { event, data };
            });
          const text = events
            .filter((e) => e.event === 'content_block_delta')
            .map((e) => (e.data.delta as { text?: string }).text ?? '')
            .join('');
          resolve({ status: res.statusCode ?? 0, text, events });
        });
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({
        model: MODEL,
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'slow please' }],
      }),
    );
  });
  return { started, done };
}

describe('relay process with two workers', () => {
  const prefix = uniquePrefix();
  let fake: FakeAnthropic;
  let relay: RelayProcess | undefined;
  let admin: AdminClient;
  let reader: TestRelay | undefined;
  let relayKey: { id: string; key: string };

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    const port = await freePort();
    relay = await spawnRelay(testEnv(prefix, { PORT: String(port), WORKERS: '2' }));
    admin = new AdminClient(relay.url);
    await admin.login();
    await admin.createAccount({ apiKey: UPSTREAM_KEY, baseUrl: fake.url });
    relayKey = await admin.createKey({ name: 'cluster e2e' });
  });

  afterAll(async () => {
    relay?.killGroup();
    await reader?.close();
    await fake?.close();
  });

  it('spreads fresh connections over two worker processes', async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 200 && pids.size < 2; i++) {
      const h = await health(relay!.url);
      expect(h.status).toBe(200);
      expect(h.body.workers.configured).toBe(2);
      pids.add(h.body.workers.pid);
    }
    expect(pids.size).toBe(2);
    expect(pids.has(relay!.pid)).toBe(false);
  });

  it('restarts a worker killed with SIGKILL and stays available meanwhile', async () => {
    const before = new Set<number>();
    await pollUntil('both workers to answer', async () => {
      before.add((await health(relay!.url)).body.workers.pid);
      return before.size === 2 ? true : undefined;
    });
    const [victim, survivor] = [...before] as [number, number];
    process.kill(victim, 'SIGKILL');
    await pollUntil(`worker ${victim} to die`, () => (isAlive(victim) ? undefined : true), 5_000);

    // Every request on a fresh connection is answered, first by the survivor, then by both.
    const seen = new Set<number>();
    const failures: string[] = [];
    const replacement = await pollUntil(
      'a restarted worker to answer /health',
      async () => {
        try {
          const h = await health(relay!.url);
          if (h.status !== 200) failures.push(`status ${h.status}`);
          seen.add(h.body.workers.pid);
        } catch (err) {
          failures.push(String(err));
        }
        return [...seen].find((pid) => !before.has(pid));
      },
      15_000,
      20,
    );
    expect(failures).toEqual([]);
    expect(replacement).not.toBe(victim);
    expect(seen.has(victim)).toBe(false);
    expect(isAlive(survivor)).toBe(true);
    // The relay still relays (the new worker too, whichever gets the connection).
    for (let i = 0; i < 4; i++) {
      const res = await freshRequest(`${relay!.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': relayKey.key },
        body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
    }
  });

  it('on SIGTERM finishes a running stream, books it, refuses new connections and exits 0', async () => {
    const r = relay!;
    const streamKey = await admin.createKey({ name: 'drain e2e' });
    const text = 'This slow answer must reach the client whole although the relay is shutting down.';
    const usage = {
      input_tokens: 321,
      output_tokens: 54,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 200,
    };
    fake.script(UPSTREAM_KEY, { kind: 'message', text, usage, chunkDelayMs: 200, deltas: 10 });

    const stream = streamMessage(r.url, streamKey.key);
    await stream.started;
    const sentAt = Date.now();
    process.kill(r.pid, 'SIGTERM');

    // While the stream is still running, the port stops accepting connections.
    const refusedAt = await pollUntil(
      'new connections to be refused',
      async () => ((await probeConnect(r.port)) === 'refused' ? Date.now() : undefined),
      2_500,
      20,
    );
    const result = await stream.done;
    const finishedAt = Date.now();
    expect(refusedAt).toBeLessThan(finishedAt - 500);

    expect(result.status).toBe(200);
    expect(result.text).toBe(text);
    expect(result.events.map((e) => e.event).at(-1)).toBe('message_stop');
    expect(finishedAt - sentAt).toBeGreaterThan(1_500);

    const exit = await r.waitExit();
    expect(exit, r.stderr).toEqual({ code: 0, signal: null });

    // Another relay of the same deployment (same Redis and prefix) reads what was booked.
    reader = await startTestRelay({ prefix });
    const booked = await reader.admin.keyUsage(streamKey.id);
    expect(booked.total).toMatchObject({
      requests: 1,
      errors: 0,
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      cacheReadTokens: usage.cache_read_input_tokens,
      cacheCreateTokens: usage.cache_creation_input_tokens,
    });
  });

  it('stops the boot with exit code 2 and names PORT when PORT is not a number', async () => {
    const bad = await spawnRelay(testEnv(uniquePrefix(), { PORT: 'abc', WORKERS: '2' }), { waitHealthy: false });
    try {
      const exit = await bad.waitExit();
      expect(exit.code).toBe(2);
      expect(bad.stderr).toMatch(/PORT/);
      expect(bad.stderr).toMatch(/abc/);
    } finally {
      bad.killGroup();
    }
  });
});
