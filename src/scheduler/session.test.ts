import { describe, expect, it } from 'vitest';
import { sessionFromUserId, sessionOf, type SessionRef } from './session.js';

const SESSION = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const OTHER_SESSION = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';
const DEVICE = 'd'.repeat(64);
const ACCOUNT = '11111111-2222-4333-8444-555555555555';

/** Claude Code's `metadata.user_id`: a JSON string. */
const ccUserId = (session: string, device = DEVICE, account = ACCOUNT) =>
  JSON.stringify({ device_id: device, account_uuid: account, session_id: session });
/** The legacy underscore form. */
const legacyUserId = (session: string) => `user_${'ab'.repeat(32)}_account_${ACCOUNT}_session_${session}`;

const anthropic = (system: unknown, ...messages: { role: string; content: unknown }[]) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  system,
  messages,
});

const must = (ref: SessionRef | null): SessionRef => {
  expect(ref).not.toBeNull();
  return ref as SessionRef;
};
const hashOf = (headers: Record<string, string>, body: unknown) => must(sessionOf(headers, body)).hash;

describe('sessionFromUserId', () => {
  it.each<[string, unknown, string | undefined]>([
    ['Claude Code JSON string', ccUserId(SESSION), SESSION],
    [
      'JSON string, keys in another order',
      JSON.stringify({ session_id: SESSION, account_uuid: '', device_id: DEVICE }),
      SESSION,
    ],
    ['JSON string with an empty account_uuid', ccUserId(SESSION, DEVICE, ''), SESSION],
    ['legacy underscore form', legacyUserId(SESSION), SESSION],
    ['legacy form, upper-case hex session', legacyUserId(SESSION.toUpperCase()), SESSION.toUpperCase()],
    ['JSON without session_id', JSON.stringify({ device_id: DEVICE, account_uuid: ACCOUNT }), undefined],
    ['JSON with an empty session_id', ccUserId(''), undefined],
    ['JSON with a numeric session_id', JSON.stringify({ device_id: DEVICE, session_id: 42 }), undefined],
    ['JSON with a null session_id', JSON.stringify({ session_id: null }), undefined],
    ['truncated JSON', ccUserId(SESSION).slice(0, -2), undefined],
    ['not JSON though it starts with a brace', '{session_id: nope}', undefined],
    ['legacy form without a session part', `user_${'ab'.repeat(32)}_account_${ACCOUNT}`, undefined],
    ['legacy form with an empty session part', `user_${'ab'.repeat(32)}_account_${ACCOUNT}_session_`, undefined],
    ['legacy form, session too short', `user_${'ab'.repeat(32)}_account_${ACCOUNT}_session_abc`, undefined],
    ['legacy form, session not hex', `user_${'ab'.repeat(32)}_account_${ACCOUNT}_session_zzzzzzzz-zzzz`, undefined],
    ['legacy form with trailing text', `${legacyUserId(SESSION)}_extra`, undefined],
    ['a plain user name', 'alice', undefined],
    ['empty string', '', undefined],
    ['undefined', undefined, undefined],
    ['null', null, undefined],
    ['a number', 12345678, undefined],
    ['an object (not a JSON string)', { session_id: SESSION }, undefined],
  ])('%s', (_name, userId, expected) => {
    expect(sessionFromUserId(userId)).toBe(expected);
  });
});

describe('sessionOf: headers', () => {
  const body = anthropic('You are terse.', { role: 'user', content: 'hello' });
  const only = (name: string, value: string) => hashOf({ [name]: value }, body);

  it.each(['x-claude-code-session-id', 'session_id', 'session-id', 'x-session-affinity'])(
    '%s alone is a header session',
    (name) => {
      const ref = must(sessionOf({ [name]: SESSION }, body));
      expect(ref.source).toBe('header');
      expect(ref.hash).not.toBe(only(name, OTHER_SESSION));
    },
  );

  it.each<[string, Record<string, string>, string, string]>([
    [
      'x-claude-code-session-id beats session_id and x-session-affinity',
      { 'x-session-affinity': 'C', session_id: 'B', 'x-claude-code-session-id': 'A' },
      'x-claude-code-session-id',
      'A',
    ],
    [
      'x-claude-code-session-id beats session_id',
      { session_id: 'B', 'x-claude-code-session-id': 'A' },
      'x-claude-code-session-id',
      'A',
    ],
    ['session_id beats x-session-affinity', { 'x-session-affinity': 'C', session_id: 'B' }, 'session_id', 'B'],
    ['an empty header is skipped', { 'x-claude-code-session-id': '', session_id: 'B' }, 'session_id', 'B'],
    [
      'a blank header is skipped',
      { 'x-claude-code-session-id': '   ', 'x-session-affinity': 'C' },
      'x-session-affinity',
      'C',
    ],
    ['a header value is trimmed', { 'x-claude-code-session-id': '  A\t' }, 'x-claude-code-session-id', 'A'],
  ])('%s', (_name, headers, winner, value) => {
    const ref = must(sessionOf(headers, body));
    expect(ref.source).toBe('header');
    expect(ref.hash).toBe(only(winner, value));
    for (const loser of ['A', 'B', 'C'].filter((v) => v !== value)) expect(ref.hash).not.toBe(only(winner, loser));
  });

  it('a header beats metadata and the opener', () => {
    const withMetadata = { ...body, metadata: { user_id: ccUserId(OTHER_SESSION) } };
    const ref = must(sessionOf({ 'x-claude-code-session-id': SESSION }, withMetadata));
    expect(ref).toEqual({ hash: only('x-claude-code-session-id', SESSION), source: 'header' });
  });

  it('a header session needs no body at all', () => {
    expect(must(sessionOf({ session_id: SESSION }, null)).source).toBe('header');
    expect(must(sessionOf({ session_id: SESSION }, undefined)).source).toBe('header');
  });

  it('other headers are not session headers', () => {
    const ref = must(
      sessionOf({ 'x-request-id': SESSION, 'user-agent': 'claude-cli/2.1.0', 'x-trace-id': SESSION }, body),
    );
    expect(ref.source).toBe('opener');
  });
});

describe('sessionOf: metadata.user_id', () => {
  const body = (userId: unknown, firstUser = 'hello') => ({
    ...anthropic('sys', { role: 'user', content: firstUser }),
    metadata: { user_id: userId },
  });

  it.each([
    ['JSON string', ccUserId(SESSION)],
    ['legacy form', legacyUserId(SESSION)],
  ])('%s: metadata source, beats the opener', (_name, userId) => {
    const ref = must(sessionOf({}, body(userId)));
    expect(ref.source).toBe('metadata');
    // The conversation is the session id, not the prompt.
    expect(hashOf({}, body(userId, 'a different opener'))).toBe(ref.hash);
    expect(ref.hash).not.toBe(hashOf({}, body(userId.replace(SESSION, OTHER_SESSION))));
  });

  it('only the session id counts: device and account do not change the hash', () => {
    expect(hashOf({}, body(ccUserId(SESSION, 'e'.repeat(64), OTHER_SESSION)))).toBe(
      hashOf({}, body(ccUserId(SESSION))),
    );
  });

  it('the JSON and legacy forms of one session id are one session', () => {
    expect(hashOf({}, body(ccUserId(SESSION)))).toBe(hashOf({}, body(legacyUserId(SESSION))));
  });

  it.each<[string, unknown]>([
    ['malformed JSON', '{"session_id":'],
    ['JSON without session_id', JSON.stringify({ device_id: DEVICE })],
    ['a user name', 'alice'],
    ['empty', ''],
    ['a number', 7],
    ['null', null],
  ])('unusable user_id (%s) falls back to the opener', (_name, userId) => {
    const ref = must(sessionOf({}, body(userId)));
    expect(ref).toEqual({ hash: hashOf({}, anthropic('sys', { role: 'user', content: 'hello' })), source: 'opener' });
  });

  it('metadata that is not an object is ignored', () => {
    expect(must(sessionOf({}, { ...anthropic('sys', { role: 'user', content: 'hi' }), metadata: 'x' })).source).toBe(
      'opener',
    );
    expect(must(sessionOf({}, { ...anthropic('sys', { role: 'user', content: 'hi' }), metadata: null })).source).toBe(
      'opener',
    );
  });
});

describe('sessionOf: opener hash (Anthropic shape)', () => {
  const first = anthropic('You are a careful reviewer.', { role: 'user', content: 'Review this diff.' });

  it('is an opener session', () => {
    expect(must(sessionOf({}, first)).source).toBe('opener');
  });

  it('is stable when later turns are appended', () => {
    const later = anthropic(
      'You are a careful reviewer.',
      { role: 'user', content: 'Review this diff.' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looks fine.' },
          { type: 'tool_use', id: 't1', name: 'read', input: {} },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'file text' }] },
      { role: 'assistant', content: 'Done.' },
      { role: 'user', content: 'Now the tests.' },
    );
    expect(hashOf({}, later)).toBe(hashOf({}, first));
  });

  it('skips leading assistant messages to find the first user message', () => {
    const withPrefill = anthropic(
      'You are a careful reviewer.',
      { role: 'assistant', content: 'Hi!' },
      { role: 'user', content: 'Review this diff.' },
    );
    expect(hashOf({}, withPrefill)).toBe(hashOf({}, first));
  });

  it.each<[string, unknown]>([
    [
      'the first user message differs',
      anthropic('You are a careful reviewer.', { role: 'user', content: 'Review that diff.' }),
    ],
    [
      'the system prompt differs',
      anthropic('You are a lenient reviewer.', { role: 'user', content: 'Review this diff.' }),
    ],
    ['there is no system prompt', anthropic(undefined, { role: 'user', content: 'Review this diff.' })],
  ])('differs when %s', (_name, other) => {
    expect(hashOf({}, other)).not.toBe(hashOf({}, first));
  });

  it('string and block-array content give the same opener', () => {
    const blocks = anthropic(
      [
        { type: 'text', text: 'You are a careful ' },
        { type: 'text', text: 'reviewer.', cache_control: { type: 'ephemeral' } },
      ],
      { role: 'user', content: [{ type: 'text', text: 'Review this diff.' }] },
    );
    expect(hashOf({}, blocks)).toBe(hashOf({}, first));
  });

  it('block arrays: text blocks count, the text of each block matters', () => {
    const a = anthropic([{ type: 'text', text: 'S' }], {
      role: 'user',
      content: [
        { type: 'image', source: {} },
        { type: 'text', text: 'one' },
      ],
    });
    const b = anthropic([{ type: 'text', text: 'S' }], {
      role: 'user',
      content: [
        { type: 'image', source: {} },
        { type: 'text', text: 'two' },
      ],
    });
    expect(hashOf({}, a)).not.toBe(hashOf({}, b));
  });

  it.each<[string, unknown]>([
    ['null body', null],
    ['undefined body', undefined],
    ['empty object', {}],
    ['no messages and no system', { model: 'claude-sonnet-4-5' }],
    ['only assistant messages', anthropic(undefined, { role: 'assistant', content: 'hi' })],
    ['empty user message and no system', anthropic(undefined, { role: 'user', content: '' })],
    ['a string body', 'hello'],
  ])('no session at all: %s', (_name, body) => {
    expect(sessionOf({}, body)).toBeNull();
  });
});

describe('sessionOf: opener hash (OpenAI shapes)', () => {
  const chat = (system: string, ...turns: { role: string; content: unknown }[]) => ({
    model: 'gpt-4o',
    messages: [{ role: 'system', content: system }, ...turns],
  });

  it('chat completions: stable when turns are appended, differs with the first user message', () => {
    const first = chat('Be brief.', { role: 'user', content: 'What is TCP?' });
    const later = chat(
      'Be brief.',
      { role: 'user', content: 'What is TCP?' },
      { role: 'assistant', content: 'A protocol.' },
      { role: 'user', content: 'And UDP?' },
    );
    const other = chat('Be brief.', { role: 'user', content: 'What is UDP?' });
    expect(must(sessionOf({}, first)).source).toBe('opener');
    expect(hashOf({}, later)).toBe(hashOf({}, first));
    expect(hashOf({}, other)).not.toBe(hashOf({}, first));
  });

  it('chat completions: string and content-part arrays give the same opener', () => {
    const parts = chat('Be brief.', {
      role: 'user',
      content: [
        { type: 'text', text: 'What is ' },
        { type: 'text', text: 'TCP?' },
      ],
    });
    expect(hashOf({}, parts)).toBe(hashOf({}, chat('Be brief.', { role: 'user', content: 'What is TCP?' })));
  });

  // The opener is documented as "system prompt plus first user message" for OpenAI shapes too; in
  // chat completions the system prompt is a `system` (or `developer`) message.
  it('chat completions: the system message is part of the opener', () => {
    const a = chat('You translate to French.', { role: 'user', content: 'Hello' });
    const b = chat('You translate to German.', { role: 'user', content: 'Hello' });
    expect(hashOf({}, a)).not.toBe(hashOf({}, b));
  });

  it('responses API: instructions plus input (string or items)', () => {
    const str = { model: 'gpt-5', instructions: 'Be brief.', input: 'What is TCP?' };
    const items = {
      model: 'gpt-5',
      instructions: 'Be brief.',
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is TCP?' }] }],
    };
    const later = {
      ...items,
      input: [
        ...items.input,
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'A protocol.' }] },
      ],
    };
    expect(must(sessionOf({}, str)).source).toBe('opener');
    expect(hashOf({}, items)).toBe(hashOf({}, str));
    expect(hashOf({}, later)).toBe(hashOf({}, str));
    expect(hashOf({}, { ...str, instructions: 'Be verbose.' })).not.toBe(hashOf({}, str));
    expect(hashOf({}, { ...str, input: 'What is UDP?' })).not.toBe(hashOf({}, str));
  });
});

describe('sessionOf: opener hash (Gemini shape)', () => {
  const gemini = (system: string | undefined, ...contents: { role: string; parts: { text?: string }[] }[]) => ({
    ...(system === undefined ? {} : { systemInstruction: { parts: [{ text: system }] } }),
    contents,
  });
  const first = gemini('You are a poet.', { role: 'user', parts: [{ text: 'Write about rain.' }] });

  it('is an opener session, stable when turns are appended', () => {
    const later = gemini(
      'You are a poet.',
      { role: 'user', parts: [{ text: 'Write about rain.' }] },
      { role: 'model', parts: [{ text: 'Drops...' }] },
      { role: 'user', parts: [{ text: 'Shorter.' }] },
    );
    expect(must(sessionOf({}, first)).source).toBe('opener');
    expect(hashOf({}, later)).toBe(hashOf({}, first));
  });

  it.each<[string, unknown]>([
    [
      'the system instruction differs',
      gemini('You are a critic.', { role: 'user', parts: [{ text: 'Write about rain.' }] }),
    ],
    ['there is no system instruction', gemini(undefined, { role: 'user', parts: [{ text: 'Write about rain.' }] })],
    [
      'the first user message differs',
      gemini('You are a poet.', { role: 'user', parts: [{ text: 'Write about snow.' }] }),
    ],
  ])('differs when %s', (_name, other) => {
    expect(hashOf({}, other)).not.toBe(hashOf({}, first));
  });

  it('several parts are read as one text', () => {
    const split = gemini('You are a poet.', { role: 'user', parts: [{ text: 'Write about ' }, { text: 'rain.' }] });
    expect(hashOf({}, split)).toBe(hashOf({}, first));
  });
});

describe('sessionOf: the hash', () => {
  const hexSession = 'deadbeefcafebabe0123456789abcdef';
  it.each<[string, Record<string, string>, unknown, string]>([
    ['header (uuid)', { 'x-claude-code-session-id': SESSION }, {}, SESSION],
    ['header (hex)', { session_id: hexSession }, {}, hexSession],
    ['metadata JSON', {}, { metadata: { user_id: ccUserId(SESSION) } }, SESSION],
    ['metadata legacy', {}, { metadata: { user_id: legacyUserId(hexSession) } }, hexSession],
    ['opener', {}, anthropic('secret system prompt', { role: 'user', content: 'secret question' }), 'secret'],
  ])('%s: fixed-length hex digest, never the raw id', (_name, headers, body, raw) => {
    const { hash } = must(sessionOf(headers, body));
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    expect(hash).not.toContain(raw);
    expect(hash).not.toContain(raw.replace(/-/g, ''));
  });

  it('is deterministic', () => {
    const body = { ...anthropic('s', { role: 'user', content: 'u' }), metadata: { user_id: ccUserId(SESSION) } };
    expect(hashOf({}, body)).toBe(hashOf({}, structuredClone(body)));
    expect(hashOf({ session_id: SESSION }, null)).toBe(hashOf({ session_id: SESSION }, null));
  });
});

describe("sessionOf: session ids in other clients' bodies", () => {
  const codeAssist = (session: unknown, text = 'hello') => ({
    model: 'gemini-2.5-pro',
    project: 'p',
    request: { contents: [{ role: 'user', parts: [{ text }] }], session_id: session },
  });

  it("Gemini CLI's Code Assist request.session_id names the conversation, whatever the prompt", () => {
    const ref = must(sessionOf({}, codeAssist(SESSION)));
    expect(ref.source).toBe('metadata');
    expect(hashOf({}, codeAssist(SESSION, 'another prompt'))).toBe(ref.hash);
    expect(hashOf({}, codeAssist(OTHER_SESSION))).not.toBe(ref.hash);
    // The same id in a session header is the same conversation.
    expect(hashOf({ 'x-session-affinity': SESSION }, {})).toBe(ref.hash);
  });

  it("OpenAI's prompt_cache_key names the conversation", () => {
    const body = (key: string, text: string) => ({ model: 'gpt-5', input: text, prompt_cache_key: key });
    expect(hashOf({}, body('thread-1', 'a'))).toBe(hashOf({}, body('thread-1', 'b')));
    expect(hashOf({}, body('thread-1', 'a'))).not.toBe(hashOf({}, body('thread-2', 'a')));
  });

  it('an empty or non-string id falls back to the opener', () => {
    expect(must(sessionOf({}, codeAssist(''))).source).toBe('opener');
    expect(must(sessionOf({}, codeAssist(42))).source).toBe('opener');
  });
});
