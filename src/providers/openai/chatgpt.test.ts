import { describe, expect, it } from 'vitest';
import { chatgptAccountId, chatgptBody, chatgptHeaders, collectResponse } from './chatgpt.js';
import { chatgptClaims } from './claims.js';

const jwt = (payload: Record<string, unknown>) =>
  `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
const AUTH = 'https://api.openai.com/auth';

describe('chatgptBody: the ChatGPT backend rules', () => {
  const rewrite = (body: Record<string, unknown>) =>
    JSON.parse(chatgptBody(body).toString('utf8')) as Record<string, unknown>;

  it('always streams, never stores, and drops max_output_tokens', () => {
    expect(
      rewrite({
        model: 'gpt-6.2-sol',
        input: [],
        stream: false,
        store: true,
        max_output_tokens: 100,
        reasoning: { effort: 'low' },
      }),
    ).toEqual({
      model: 'gpt-6.2-sol',
      input: [],
      stream: true,
      store: false,
      reasoning: { effort: 'low' },
    });
  });

  it('text input becomes a user message item', () => {
    expect(rewrite({ model: 'm', input: 'say hi' }).input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'say hi' }] },
    ]);
  });
});

describe('the ChatGPT account id', () => {
  it('from the option first', () => {
    expect(
      chatgptAccountId({ chatgptAccountId: 'acc-opt' }, { idToken: jwt({ [AUTH]: { chatgpt_account_id: 'acc-id' } }) }),
    ).toBe('acc-opt');
  });
  it('else from the id token', () => {
    expect(
      chatgptAccountId(
        {},
        {
          idToken: jwt({ [AUTH]: { chatgpt_account_id: 'acc-id' } }),
          accessToken: jwt({ [AUTH]: { chatgpt_account_id: 'acc-at' } }),
        },
      ),
    ).toBe('acc-id');
  });
  it('else from the access token', () => {
    expect(chatgptAccountId({}, { accessToken: jwt({ [AUTH]: { chatgpt_account_id: 'acc-at' } }) })).toBe('acc-at');
  });
  it('none at all', () => {
    expect(chatgptAccountId({}, { accessToken: 'opaque' })).toBeUndefined();
  });
  it('claims: email, plan, expiry', () => {
    expect(
      chatgptClaims(
        jwt({ email: 'a@b.c', exp: 1_800_000_000, [AUTH]: { chatgpt_account_id: 'x', chatgpt_plan_type: 'pro' } }),
      ),
    ).toEqual({
      accountId: 'x',
      planType: 'pro',
      email: 'a@b.c',
      expiresAt: 1_800_000_000_000,
    });
  });
});

describe('chatgptHeaders', () => {
  it("keeps Codex's own originator and user agent", () => {
    const h: Record<string, string> = { originator: 'codex_exec', 'user-agent': 'codex_exec/0.171.0 (Debian)' };
    chatgptHeaders(h, 'tok', 'acc');
    expect(h).toEqual({
      originator: 'codex_exec',
      'user-agent': 'codex_exec/0.171.0 (Debian)',
      authorization: 'Bearer tok',
      'chatgpt-account-id': 'acc',
      accept: 'text/event-stream',
    });
  });
  it('presents other clients as Codex', () => {
    const h: Record<string, string> = { 'user-agent': 'OpenAI/JS 6.30.1' };
    chatgptHeaders(h, 'tok', undefined);
    expect(h).toEqual({
      originator: 'codex_cli_rs',
      'user-agent': 'codex_cli_rs/0.171.0',
      authorization: 'Bearer tok',
      accept: 'text/event-stream',
    });
  });
});

describe('collectResponse: a stream for a client that wants JSON', () => {
  const upstream = (text: string) =>
    ({
      statusCode: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: (async function* () {
        // Split mid-event: the parser must join the pieces.
        const bytes = Buffer.from(text);
        yield bytes.subarray(0, 17);
        yield bytes.subarray(17);
      })(),
    }) as unknown as Parameters<typeof collectResponse>[0];
  const readAll = async (res: ReturnType<typeof collectResponse>) => {
    const chunks: Buffer[] = [];
    for await (const c of res.body as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks).toString('utf8');
  };
  const ev = (type: string, body: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`;

  it('answers with the terminal event’s response object', async () => {
    const final = {
      id: 'resp_1',
      object: 'response',
      status: 'completed',
      usage: { input_tokens: 3, output_tokens: 1 },
    };
    const res = collectResponse(
      upstream(
        ev('response.created', { response: { id: 'resp_1', status: 'in_progress' } }) +
          ev('response.output_text.delta', { delta: 'x' }) +
          ev('response.completed', { response: final }),
      ),
    );
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(await readAll(res))).toEqual(final);
  });

  it('a stream without a terminal event is an upstream failure, naming its error', async () => {
    const res = collectResponse(
      upstream(ev('response.created', { response: {} }) + ev('error', { code: 'server_error', message: 'boom' })),
    );
    await expect(readAll(res)).rejects.toThrow('Upstream: boom');
    await expect(readAll(collectResponse(upstream(ev('response.created', { response: {} }))))).rejects.toThrow(
      'ended before the response was complete',
    );
  });
});
