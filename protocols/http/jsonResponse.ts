// One JSON response, as every HTTP API of ours answers: the body serialized,
// its length set, extra headers (Retry-After, WWW-Authenticate, cache control) added.
import type http from 'node:http';

/** Not to be cached: health, counters and live state are stale the moment they are read. */
export const NO_STORE = { 'cache-control': 'no-store' } as const;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
