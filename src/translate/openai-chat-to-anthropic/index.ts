import type { Bridge } from '../types.js';
import { toAnthropicRequest } from './request.js';
import { fromAnthropicMessage } from './response.js';
import { AnthropicToChatStream } from './stream.js';

/** OpenAI Chat Completions clients (Cherry Studio, the `openai` SDK) served by Claude accounts. */
export const openaiChatToAnthropic: Bridge = {
  from: 'openai-chat',
  to: 'anthropic',
  request: toAnthropicRequest,
  response: fromAnthropicMessage,
  stream: (ctx) => new AnthropicToChatStream(ctx),
};
