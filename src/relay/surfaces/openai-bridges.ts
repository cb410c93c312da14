import { RelayError } from '../../errors/catalogue.js';
import { keyFromHeaders } from '../../keys/service.js';
import type { Bridge } from '../../translate/index.js';
import { InvalidChatRequest } from '../../translate/openai-chat/content.js';
import { openaiChatToAnthropic } from '../../translate/openai-chat-to-anthropic/index.js';
import { openaiChatToGemini } from '../../translate/openai-chat-to-gemini/index.js';
import type { ParsedRequest, Surface } from '../types.js';
import { parseJsonObject, requireModel } from './json.js';

/**
 * OpenAI Chat Completions served by Claude and Gemini accounts through format bridges
 * (`/openai/claude/v1/chat/completions`, `/openai/gemini/v1/chat/completions`): what Cherry Studio
 * and the `openai` SDK use to reach those accounts. The key comes in `Authorization: Bearer` (the
 * SDK) or `x-api-key`; errors are OpenAI-shaped.
 *
 * The body is translated once while parsing, and thrown away: whatever the bridge cannot carry
 * (n > 1, an unknown part type, a bad data URL) is a 400 before a key slot or an account is taken.
 */
function chatParser(bridge: Bridge) {
  return (body: Buffer): ParsedRequest => {
    const json = parseJsonObject(body);
    const model = requireModel(json);
    const stream = json.stream === true;
    try {
      bridge.request(json, {
        requestedModel: model,
        upstreamModel: model,
        stream,
        clientQuery: new URLSearchParams(),
        clientBody: json,
      });
    } catch (err) {
      if (err instanceof InvalidChatRequest) throw new RelayError('invalid_request', { message: err.message });
      throw err;
    }
    return { model, stream, json };
  };
}

export const openaiClaudeChat: Surface = {
  name: 'openai.claude.chat',
  shape: 'openai',
  format: 'openai-chat',
  op: 'generate',
  platforms: ['claude', 'bedrock'],
  booked: true,
  credential: keyFromHeaders,
  parse: chatParser(openaiChatToAnthropic),
};

export const openaiGeminiChat: Surface = {
  name: 'openai.gemini.chat',
  shape: 'openai',
  format: 'openai-chat',
  op: 'generate',
  platforms: ['gemini'],
  booked: true,
  credential: keyFromHeaders,
  parse: chatParser(openaiChatToGemini),
};
