import { openaiChatToAnthropic } from './openai-chat-to-anthropic/index.js';
import { openaiChatToCodeAssist, openaiChatToGemini } from './openai-chat-to-gemini/index.js';
import { codeAssistToGemini } from './code-assist-to-gemini.js';
import { codeAssistFraming, geminiFraming } from './gemini-framing.js';
import { geminiToCodeAssist } from './gemini-to-code-assist.js';
import { openaiChatToOpenaiChat } from './openai-chat-to-openai-chat.js';
import type { WireFormat } from '../wire/index.js';
import type { Bridge } from './types.js';

export type { Bridge, BridgeContext, StreamTranslator } from './types.js';

/** Every bridge, found by the two formats it joins. */
const BRIDGES: Bridge[] = [
  geminiFraming,
  codeAssistFraming,
  geminiToCodeAssist,
  codeAssistToGemini,
  openaiChatToAnthropic,
  openaiChatToOpenaiChat,
  openaiChatToGemini,
  openaiChatToCodeAssist,
];

export function bridgeFor(from: WireFormat, to: WireFormat): Bridge | undefined {
  return BRIDGES.find((b) => b.from === from && b.to === to);
}

/** Whether a client speaking `from` can be served by an upstream speaking `to`. */
export const canBridge = (from: WireFormat, to: WireFormat): boolean =>
  from === to || bridgeFor(from, to) !== undefined;
