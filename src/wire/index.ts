import { anthropicReader } from './anthropic.js';
import { codeAssistReader, geminiReader } from './gemini.js';
import { OPENAI_READERS } from './openai.js';
import type { UsageReader, WireFormat } from './types.js';

export {
  WIRE_FORMATS,
  type FoundUsage,
  type Operation,
  type UsageReader,
  type UsageTap,
  type WireFormat,
} from './types.js';

/** The usage reader of each wire format an upstream answers in. */
const READERS: Partial<Record<WireFormat, UsageReader>> = {
  anthropic: anthropicReader,
  gemini: geminiReader,
  'code-assist': codeAssistReader,
  ...OPENAI_READERS,
};

export function usageReader(format: WireFormat): UsageReader {
  const reader = READERS[format];
  if (!reader) throw new Error(`no usage reader for the ${format} format`);
  return reader;
}
