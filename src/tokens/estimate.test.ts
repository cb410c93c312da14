import { describe, expect, it } from 'vitest';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { createWorkPool } from '../work/pool.js';
import { countParts, familyOf } from './count.js';
import { estimatePromptTokens, INLINE_MAX_CHARS } from './index.js';
import { IMAGE_TOKENS, MESSAGE_TOKENS, REPLY_TOKENS, promptParts } from './text.js';

const png = { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' };

describe('promptParts per wire format', () => {
  it('anthropic: system, tools, messages, tool results, images as a fixed cost', () => {
    const p = promptParts('anthropic', {
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hi' },
            { type: 'image', source: png },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'tu_1', name: 'get_weather', input: { city: 'Oslo' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: 'Sunny' }] },
      ],
    });
    expect(p.text).toContain('Be brief.');
    expect(p.text).toContain('get_weather');
    expect(p.text).toContain('Oslo');
    expect(p.text).toContain('Sunny');
    expect(p.text).not.toContain('iVBOR');
    expect(p.text).not.toContain('tu_1');
    expect(p.fixed).toBe(3 * MESSAGE_TOKENS + IMAGE_TOKENS.anthropic);
  });

  it('openai chat: messages, names, tool calls, image_url, reply priming', () => {
    const p = promptParts('openai-chat', {
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
        { role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: '{"a":1}' } }], content: null },
      ],
    });
    expect(p.text).toContain('Be brief.');
    expect(p.text).toContain('"arguments"');
    expect(p.fixed).toBe(3 * MESSAGE_TOKENS + REPLY_TOKENS + IMAGE_TOKENS.openai);
  });

  it('openai responses: instructions and input string or items', () => {
    expect(promptParts('openai-responses', { instructions: 'Rules', input: 'Hello' }).text).toBe('Rules\nHello');
    const items = promptParts('openai-responses', {
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'A' }] }],
    });
    expect(items.text).toBe('A');
  });

  it('gemini and code assist: systemInstruction, contents parts, inline data', () => {
    const body = {
      systemInstruction: { parts: [{ text: 'Sys' }] },
      contents: [{ role: 'user', parts: [{ text: 'Hello' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] }],
    };
    const g = promptParts('gemini', body);
    expect(g.text).toBe('Sys\nHello');
    expect(g.fixed).toBe(IMAGE_TOKENS.gemini);
    expect(promptParts('code-assist', { model: 'gemini-2.5-pro', request: body })).toEqual(g);
  });
});

describe('counting', () => {
  it('openai models count exactly o200k_base; claude and gemini are calibrated above it', () => {
    const parts = { text: 'The quick brown fox jumps over the lazy dog.', fixed: 0 };
    const base = countTokens(parts.text);
    expect(countParts(parts, familyOf('gpt-4o'))).toBe(base);
    expect(countParts(parts, familyOf('claude-sonnet-4-5'))).toBeGreaterThan(base);
    expect(familyOf('gemini-2.5-flash')).toBe('gemini');
  });

  it('a prompt over the inline limit is counted on a pool thread, to the same number', async () => {
    const pool = createWorkPool({ maxThreads: 1 });
    try {
      const json = { messages: [{ role: 'user', content: 'relay tokens '.repeat(INLINE_MAX_CHARS / 6) }] };
      const req = { format: 'anthropic' as const, model: 'claude-sonnet-4-5', json };
      const inline = countParts(promptParts('anthropic', json), 'claude');
      expect(await estimatePromptTokens(pool, req)).toBe(inline);
      expect(pool.stats().completed).toBe(1);
      await estimatePromptTokens(pool, { ...req, json: { messages: [{ role: 'user', content: 'small' }] } });
      expect(pool.stats().completed).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
