import type { WireFormat } from '../wire/index.js';

/**
 * What a request body costs before tokenizing: its text (joined, one part per message field) and
 * the tokens counted as fixed costs (message framing, images). The tokenizer counts the text.
 */
export interface PromptParts {
  text: string;
  fixed: number;
}

/**
 * Fixed costs. Images: Anthropic documents `width * height / 750` tokens, about 1,600 for an image
 * at its 1.15-megapixel cap; OpenAI 85 + 170 per 512 px tile (765 for a 1024 px high-detail image);
 * Gemini 258 per image up to 384 px, 258 per 768 px tile above. Without decoding the image we
 * charge the documented cap of the family, so an estimate errs high, never low.
 */
export const IMAGE_TOKENS = { anthropic: 1600, openai: 765, gemini: 258 } as const;
/** Per-message framing (role and separators): OpenAI's cookbook counts 3 per message, plus 3 for the reply. */
export const MESSAGE_TOKENS = 3;
export const REPLY_TOKENS = 3;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects text and fixed costs from one format's request body. */
export function promptParts(format: WireFormat, body: Json): PromptParts {
  const acc = { text: [] as string[], fixed: 0 };
  switch (format) {
    case 'anthropic':
      anthropic(body, acc);
      break;
    case 'openai-chat':
    case 'openai-responses':
    case 'openai-embeddings':
      openai(body, acc);
      break;
    case 'gemini':
      gemini(body, acc);
      break;
    case 'code-assist':
      gemini(isObj(body.request) ? body.request : body, acc);
      break;
  }
  return { text: acc.text.join('\n'), fixed: acc.fixed };
}

interface Acc {
  text: string[];
  fixed: number;
}

/** Any value: strings are text; known image blocks are fixed costs; objects and arrays are walked. */
function walk(v: unknown, acc: Acc, image: number): void {
  if (typeof v === 'string') acc.text.push(v);
  else if (Array.isArray(v)) for (const x of v) walk(x, acc, image);
  else if (isObj(v)) {
    const t = v.type;
    if (t === 'image' || t === 'image_url' || t === 'input_image' || 'inlineData' in v || 'inline_data' in v) {
      acc.fixed += image;
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      // Keys that name structure, not content the model reads as text.
      if (k === 'type' || k === 'cache_control' || k === 'id' || k === 'tool_use_id' || k === 'role') continue;
      walk(x, acc, image);
    }
  }
}

function anthropic(b: Json, acc: Acc): void {
  walk(b.system, acc, IMAGE_TOKENS.anthropic);
  if (Array.isArray(b.tools)) for (const t of b.tools) acc.text.push(JSON.stringify(t));
  const msgs = Array.isArray(b.messages) ? b.messages : [];
  for (const m of msgs) {
    acc.fixed += MESSAGE_TOKENS;
    walk(isObj(m) ? m.content : m, acc, IMAGE_TOKENS.anthropic);
  }
}

function openai(b: Json, acc: Acc): void {
  if (Array.isArray(b.tools)) for (const t of b.tools) acc.text.push(JSON.stringify(t));
  walk(b.instructions, acc, IMAGE_TOKENS.openai);
  const msgs = Array.isArray(b.messages) ? b.messages : Array.isArray(b.input) ? b.input : [b.input];
  for (const m of msgs) {
    if (m === undefined) continue;
    acc.fixed += MESSAGE_TOKENS;
    if (isObj(m)) {
      walk(m.content ?? m.output ?? m.arguments, acc, IMAGE_TOKENS.openai);
      if (typeof m.name === 'string') acc.text.push(m.name);
      if (m.tool_calls !== undefined) acc.text.push(JSON.stringify(m.tool_calls));
    } else walk(m, acc, IMAGE_TOKENS.openai);
  }
  if (Array.isArray(b.messages)) acc.fixed += REPLY_TOKENS;
}

function gemini(b: Json, acc: Acc): void {
  walk(b.systemInstruction ?? b.system_instruction, acc, IMAGE_TOKENS.gemini);
  if (Array.isArray(b.tools)) for (const t of b.tools) acc.text.push(JSON.stringify(t));
  const req = isObj(b.generateContentRequest) ? b.generateContentRequest : b;
  const contents = Array.isArray(req.contents) ? req.contents : [];
  for (const c of contents) walk(isObj(c) ? c.parts : c, acc, IMAGE_TOKENS.gemini);
}
