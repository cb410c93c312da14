/**
 * `text` in about `n` pieces of equal length, as the fakes stream it in deltas (whole when `n` ≤ 1 or the text is
 * shorter).
 */
export function splitText(text: string, n: number): string[] {
  if (n <= 1 || text.length < n) return [text];
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
