import { splitText } from './split-text.js';

/**
 * Google's generateContent wire format as the fakes write it: responses, stream chunks in both
 * framings, error bodies with their details, and the usage the chunks report. Exported for the
 * fakes and for tests that need the exact bytes.
 */

/** `usageMetadata` (zero counts are left out, as Google does). */
export interface GeminiUsage {
  promptTokenCount: number;
  candidatesTokenCount: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

export const DEFAULT_GEMINI_USAGE: GeminiUsage = { promptTokenCount: 25, candidatesTokenCount: 12 };

export function usageMetadata(u: GeminiUsage): Record<string, number> {
  const out: Record<string, number> = { promptTokenCount: u.promptTokenCount };
  if (u.candidatesTokenCount) out.candidatesTokenCount = u.candidatesTokenCount;
  const total =
    u.promptTokenCount + u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0);
  out.totalTokenCount = total;
  if (u.cachedContentTokenCount) out.cachedContentTokenCount = u.cachedContentTokenCount;
  if (u.thoughtsTokenCount) out.thoughtsTokenCount = u.thoughtsTokenCount;
  if (u.toolUsePromptTokenCount) out.toolUsePromptTokenCount = u.toolUsePromptTokenCount;
  return out;
}

/** A Part of a candidate's content: `{text}`, `{functionCall: {name, args}}`, `{text, thought: true}`… */
export type Part = Record<string, unknown>;

/** A whole generateContent response: one text part, or the parts given. */
export function generateResponse(
  model: string,
  text: string,
  usage: GeminiUsage,
  responseId = 'fake-response-1',
  parts?: Part[],
  finishReason = 'STOP',
) {
  return {
    candidates: [{ content: { parts: parts ?? [{ text }], role: 'model' }, finishReason, index: 0 }],
    usageMetadata: usageMetadata(usage),
    modelVersion: model,
    responseId,
  };
}

/**
 * The chunks of a streamed response, as Google sends them: text split over `parts` chunks, every
 * chunk's usageMetadata a snapshot of the call so far (the prompt at once, candidates growing,
 * thoughts and cache details with the last), `finishReason` on the last.
 */
export function streamChunks(
  model: string,
  text: string,
  usage: GeminiUsage,
  parts = 3,
  responseId = 'fake-response-1',
  given?: Part[],
  finishReason = 'STOP',
): Record<string, unknown>[] {
  // Given parts go one per chunk, as Google streams a function call: whole.
  const pieces: Part[] = given ?? splitText(text, parts).map((t) => ({ text: t }));
  return pieces.map((piece, i) => {
    const last = i === pieces.length - 1;
    const snapshot: GeminiUsage = last
      ? usage
      : {
          promptTokenCount: usage.promptTokenCount,
          candidatesTokenCount: Math.max(1, Math.floor((usage.candidatesTokenCount * (i + 1)) / pieces.length)),
        };
    return {
      candidates: [{ content: { parts: [piece], role: 'model' }, ...(last ? { finishReason } : {}), index: 0 }],
      usageMetadata: usageMetadata(snapshot),
      modelVersion: model,
      responseId,
    };
  });
}

/** Google's SSE framing (`alt=sse`). */
export const sseEvent = (chunk: unknown) => `data: ${JSON.stringify(chunk)}\r\n\r\n`;

/** Code Assist wraps every response: `{response, traceId}`. */
export const wrapCodeAssist = (response: Record<string, unknown>) => ({ response, traceId: response.responseId });

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function googleError(code: number, message?: string, details?: unknown[]) {
  return {
    error: {
      code,
      message: message ?? `fake error ${code}`,
      status: STATUS[code] ?? 'UNKNOWN',
      ...(details ? { details } : {}),
    },
  };
}

/** The details of a quota 429, with the delay Google asks for. */
export function retryInfo(retryDelay: string): unknown[] {
  return [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
          quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
        },
      ],
    },
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
  ];
}

/** What the relay must book for what the fake reported: input excludes the cached part, thoughts are output. */
export function expectedTokens(usages: readonly GeminiUsage[]): {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
} {
  let input = 0;
  let output = 0;
  let read = 0;
  for (const u of usages) {
    input += u.promptTokenCount - (u.cachedContentTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0);
    output += u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0);
    read += u.cachedContentTokenCount ?? 0;
  }
  return { inputTokens: input, outputTokens: output, cacheReadTokens: read };
}

/**
 * gemini-2.5-flash's published prices in picodollars per token, worked out by hand ($0.30/M in,
 * $2.50/M out, $0.03/M cache reads), so a pricing bug cannot hide behind the relay's own numbers.
 */
export const FLASH_PRICES = { input: 300_000n, output: 2_500_000n, read: 30_000n };

export function flashCostPico(usages: readonly GeminiUsage[]): string {
  const t = expectedTokens(usages);
  return String(
    BigInt(t.inputTokens) * FLASH_PRICES.input +
      BigInt(t.outputTokens) * FLASH_PRICES.output +
      BigInt(t.cacheReadTokens) * FLASH_PRICES.read,
  );
}
