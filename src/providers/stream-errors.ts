/** What an error event that opens a stream stands for: the status class it would have had. */
export type StreamErrorClass = 'rate_limited' | 'overloaded' | 'server_error';

/**
 * Classifies an error event by its type's name, which every platform's events spell the same
 * way: Anthropic's `rate_limit_error` and `overloaded_error` (Bedrock's decoded events too),
 * OpenAI's `rate_limit_exceeded` and `insufficient_quota`, Google's RESOURCE_EXHAUSTED and
 * UNAVAILABLE (read as the former two by the Gemini tap), throttling of any kind.
 */
export function streamErrorByName(type: string): StreamErrorClass {
  if (/rate_limit|throttl|quota|exhausted/i.test(type)) return 'rate_limited';
  if (/overload|unavailable/i.test(type)) return 'overloaded';
  return 'server_error';
}
