// The request side of our JSON APIs (the group service, the availability
// service): an error that is an HTTP answer, the JSON body read within a size
// limit (413 / 415 / 400), path segments decoded (400), 405 with Allow, and
// which database failures are an outage (503) rather than a fault (500).
import type http from 'node:http';

/** An answer other than success: status, message, extra headers, the field at fault. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly field?: string,
  ) {
    super(message);
  }
}

export function methodNotAllowed(method: string | undefined, allow: string[]): HttpError {
  return new HttpError(405, `method ${method} not allowed here; use ${allow.join(', ')}`, { allow: allow.join(', ') });
}

function isJson(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(type);
}

/** The request body as JSON; undefined when there is none. 413 past the limit, 415 when not JSON, 400 when malformed. */
export async function readJson(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) throw new HttpError(413, `request body of ${declared} bytes is over the limit of ${maxBytes}`, { connection: 'close' });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `request body is over the limit of ${maxBytes} bytes`, { connection: 'close' });
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  if (!isJson(req.headers['content-type']))
    throw new HttpError(415, `request body must be application/json, not ${req.headers['content-type'] ?? 'untyped'}`, { accept: 'application/json' });
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`, {}, 'body');
  }
}

/** A percent-encoded path segment, decoded; 400 naming it when the encoding is broken. */
export function segment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `${what} in the path is not valid percent-encoding`, {}, what);
  }
}

/** PostgreSQL unreachable, restarting or out of connections: an outage (503, retry), not the request's fault. */
export function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|57P0[1-3]|08\d\d\d)$/.test(e.code ?? '') ||
    /Connection terminated|connect ECONNREFUSED|too many clients/i.test(e.message ?? '')
  );
}
