import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { createCliContext, type CliContext } from '../../src/cli/context.js';
import { createOutput } from '../../src/cli/output.js';
import { parseCommandLine } from '../../src/cli/args.js';
import { scheduleCommands } from '../../src/cli/report-schedules.js';
import { silentLogger } from '../../src/util/log.js';

/**
 * The schedule commands of `crs reports` on the relay's real Redis, run in-process (as index.ts
 * runs them), and what the admin API then shows.
 */
describe('crs reports schedule commands', () => {
  let relay: TestRelay;
  let ctx: CliContext;
  let channel = '';

  const run = async (argv: string[], json = true) => {
    const [name, ...rest] = argv;
    const command = scheduleCommands.find((c) => c.name === name);
    if (!command) throw new Error(`no command ${name}`);
    const { values, positionals } = parseCommandLine(rest, command.options ?? {});
    let text = '';
    await command.run(ctx, { values, args: positionals, out: createOutput(json, (t) => void (text += t)) });
    return json ? JSON.parse(text) : text;
  };

  beforeAll(async () => {
    relay = await startTestRelay();
    ctx = createCliContext(relay.config, silentLogger);
    const c = await relay.admin.request<{ id: string }>('POST', '/admin/alerts/channels', {
      type: 'webhook',
      name: 'bi',
      secrets: { url: 'https://bi.example.com/hook', secret: 'a-secret-of-some-length' },
    });
    channel = c.body.id;
  });
  afterAll(async () => {
    await ctx?.close();
    await relay?.close();
  });

  it('sets, lists, queues a send and removes a schedule', async () => {
    const set = await run(['schedule-set', 'weekly', '--channels', channel, '--hour', '9']);
    expect(set).toMatchObject({ kind: 'weekly', channels: [channel], hour: 9, enabled: true });
    const api = await relay.admin.request<{ items: { kind: string; hour: number }[] }>(
      'GET',
      '/admin/reports/schedules',
    );
    expect(api.body.items).toMatchObject([{ kind: 'weekly', hour: 9 }]);
    expect(await run(['schedules'], false)).toContain('09:00');

    const sent = await run(['schedule-send', 'weekly']);
    expect(sent).toMatchObject({ kind: 'weekly', channels: [channel] });
    const store = relay.instance.store;
    const queued = (await store.redis.lrange(store.keys.reportRequests(), 0, -1)).map((r) => JSON.parse(r));
    expect(queued).toMatchObject([{ id: sent.id, kind: 'weekly', by: 'crs', period: { name: sent.period } }]);

    await expect(run(['schedule-set', 'weekly', '--channels', 'ch_0000000000000000'])).rejects.toThrow('No channel');
    await expect(run(['schedule-set', 'hourly', '--channels', channel])).rejects.toThrow('KIND must be one of');
    await expect(run(['schedule-set', 'daily', '--channels', channel, '--hour', '24'])).rejects.toThrow('--hour');
    expect(await run(['schedule-remove', 'weekly'])).toEqual({ removed: 'weekly' });
    await expect(run(['schedule-remove', 'weekly'])).rejects.toThrow('There is no weekly schedule');
  });
});
