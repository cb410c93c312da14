/** An HTTP answer read whole: its status, headers, body text and, when the body is JSON, the parsed body. */
export interface Reply<J> {
  status: number;
  headers: Headers;
  text: string;
  json: J;
}

/**
 * Reads `res` whole; `json` is `otherwise` when the body is not JSON (SSE, an empty body: the caller asserts on
 * `text`).
 */
export async function readReply<J>(res: Response, otherwise: J): Promise<Reply<J>> {
  const text = await res.text();
  let json = otherwise;
  try {
    json = JSON.parse(text) as J;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, json };
}
