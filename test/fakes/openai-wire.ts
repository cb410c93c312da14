import { splitText } from './split-text.js';

/**
 * OpenAI's wire formats as the fake upstream writes them: Chat Completions (JSON, and SSE chunks
 * ending in `data: [DONE]`, the usage chunk only when `stream_options.include_usage` asked),
 * Responses (JSON, and the named SSE events from `response.created` to `response.completed`),
 * Embeddings (float or base64 vectors), and OpenAI's error body.
 */

/** What one answer consumed, as the fake reports it. `input` includes `cached` and `cacheWrite`. */
export interface FakeOpenAIUsage {
  input: number;
  output: number;
  cached?: number;
  cacheWrite?: number;
  reasoning?: number;
}

export const DEFAULT_OPENAI_USAGE: FakeOpenAIUsage = { input: 40, output: 12 };

export function chatUsageJson(u: FakeOpenAIUsage) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: {
      cached_tokens: u.cached ?? 0,
      audio_tokens: 0,
      ...(u.cacheWrite ? { cache_write_tokens: u.cacheWrite } : {}),
    },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function responsesUsageJson(u: FakeOpenAIUsage) {
  return {
    input_tokens: u.input,
    input_tokens_details: {
      cached_tokens: u.cached ?? 0,
      ...(u.cacheWrite ? { cache_write_tokens: u.cacheWrite } : {}),
    },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
    total_tokens: u.input + u.output,
  };
}

export const openaiError = (
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
) => ({ error: { message, type, param, code } });

const CREATED = 1_790_000_000;

export function chatCompletionJson(model: string, text: string, usage: FakeOpenAIUsage) {
  return {
    id: 'chatcmpl-fake01',
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: chatUsageJson(usage),
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
}

const data = (v: unknown) => `data: ${typeof v === 'string' ? v : JSON.stringify(v)}\n\n`;

/** The SSE events of a streamed chat completion; `azure` adds Azure's prompt-filter chunk first. */
export function chatEvents(
  model: string,
  text: string,
  usage: FakeOpenAIUsage,
  opts: { includeUsage: boolean; deltas?: number; azure?: boolean },
): string[] {
  const base = {
    id: 'chatcmpl-fake01',
    object: 'chat.completion.chunk',
    created: CREATED,
    model,
    system_fingerprint: 'fp_fake',
    ...(opts.includeUsage ? { usage: null } : {}),
  };
  const events: string[] = [];
  if (opts.azure)
    events.push(
      data({
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
      }),
    );
  events.push(
    data({
      ...base,
      choices: [
        { index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null },
      ],
    }),
  );
  for (const part of splitText(text, opts.deltas ?? 3))
    events.push(
      data({ ...base, choices: [{ index: 0, delta: { content: part }, logprobs: null, finish_reason: null }] }),
    );
  events.push(data({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }));
  if (opts.includeUsage) events.push(data({ ...base, choices: [], usage: chatUsageJson(usage) }));
  events.push(data('[DONE]'));
  return events;
}

export function responseJson(model: string, text: string, usage: FakeOpenAIUsage | null, status = 'completed') {
  return {
    id: 'resp_fake01',
    object: 'response',
    created_at: CREATED,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    model,
    output: text
      ? [
          {
            id: 'msg_fake01',
            type: 'message',
            status: 'completed',
            role: 'assistant',
            content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
          },
        ]
      : [],
    parallel_tool_calls: true,
    store: true,
    temperature: 1,
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    usage: usage ? responsesUsageJson(usage) : null,
    metadata: {},
  };
}

/** The named SSE events of a streamed response, exactly as the Responses API sends them. */
export function responseEvents(model: string, text: string, usage: FakeOpenAIUsage, deltas = 3): string[] {
  let seq = 0;
  const ev = (type: string, body: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...body })}\n\n`;
  const pending = { ...responseJson(model, '', null, 'in_progress') };
  const item = {
    id: 'msg_fake01',
    type: 'message',
    status: 'in_progress',
    role: 'assistant',
    content: [] as unknown[],
  };
  const at = { item_id: 'msg_fake01', output_index: 0, content_index: 0 };
  const events = [
    ev('response.created', { response: pending }),
    ev('response.in_progress', { response: pending }),
    ev('response.output_item.added', { output_index: 0, item }),
    ev('response.content_part.added', {
      ...at,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
    }),
  ];
  for (const part of splitText(text, deltas))
    events.push(ev('response.output_text.delta', { ...at, delta: part, logprobs: [] }));
  const done = { type: 'output_text', text, annotations: [], logprobs: [] };
  events.push(ev('response.output_text.done', { ...at, text, logprobs: [] }));
  events.push(ev('response.content_part.done', { ...at, part: done }));
  events.push(
    ev('response.output_item.done', { output_index: 0, item: { ...item, status: 'completed', content: [done] } }),
  );
  events.push(ev('response.completed', { response: responseJson(model, text, usage) }));
  return events;
}

/** `count` vectors of `dims` numbers, as JSON floats or as base64 float32 (what the SDK asks for). */
export function embeddingsJson(
  model: string,
  count: number,
  dims: number,
  format: string | undefined,
  usage: FakeOpenAIUsage,
) {
  const data = Array.from({ length: count }, (_, index) => {
    const vector = Array.from({ length: dims }, (_v, i) => Math.round(Math.sin(index + i + 1) * 1e6) / 1e6);
    const embedding = format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  return { object: 'list', data, model, usage: { prompt_tokens: usage.input, total_tokens: usage.input } };
}
