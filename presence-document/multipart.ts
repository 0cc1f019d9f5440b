// MIME multipart bodies (RFC 2046 §5.1) as used by RLS NOTIFYs: multipart/related
// with an RLMI root and PIDF parts (RFC 4662 §5). Works on Buffers so binary
// parts survive; returns the parts with their headers, bodies uninterpreted.
import { DecodeError } from '../protocols/decode/layer.ts';

export interface MimePart {
  /** Lower-cased header names → values (unfolded). */
  readonly headers: Readonly<Record<string, string>>;
  /** Lower-cased media type 'type/subtype' from Content-Type, '' if absent (text/plain by default). */
  readonly contentType: string;
  /** Content-Type parameters, lower-cased names. */
  readonly contentTypeParams: Readonly<Record<string, string>>;
  readonly contentId?: string;
  readonly body: Buffer;
}

const LAYER = 'multipart';

function parseCtype(v: string | undefined): { type: string; params: Record<string, string> } {
  if (!v) return { type: '', params: {} };
  const parts = v.split(';');
  const params: Record<string, string> = {};
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq > 0)
      params[p.slice(0, eq).trim().toLowerCase()] = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
  }
  return { type: parts[0]!.trim().toLowerCase(), params };
}

function parsePart(raw: Buffer): MimePart {
  // headers end at the first empty line; a part may have no headers at all
  let headerEnd = -1;
  let bodyStart: number;
  if (raw[0] === 0x0d && raw[1] === 0x0a) bodyStart = 2;
  else if (raw[0] === 0x0a) bodyStart = 1;
  else {
    const crlf = raw.indexOf('\r\n\r\n');
    const lf = raw.indexOf('\n\n');
    if (crlf >= 0 && (lf < 0 || crlf < lf)) [headerEnd, bodyStart] = [crlf, crlf + 4];
    else if (lf >= 0) [headerEnd, bodyStart] = [lf, lf + 2];
    else [headerEnd, bodyStart] = [raw.length, raw.length];
  }
  const headers: Record<string, string> = {};
  if (headerEnd > 0) {
    let last = '';
    for (const line of raw.toString('utf8', 0, headerEnd).split(/\r?\n/)) {
      if ((line.startsWith(' ') || line.startsWith('\t')) && last) headers[last] += ' ' + line.trim();
      else {
        const c = line.indexOf(':');
        if (c <= 0) throw new DecodeError(LAYER, 'malformed', 'part header without colon');
        last = line.slice(0, c).trim().toLowerCase();
        headers[last] = line.slice(c + 1).trim();
      }
    }
  }
  const ct = parseCtype(headers['content-type']);
  const cid = headers['content-id']?.replace(/^<(.*)>$/, '$1');
  const part = { headers, contentType: ct.type, contentTypeParams: ct.params, body: raw.subarray(bodyStart) };
  return cid ? { ...part, contentId: cid } : part;
}

/** Splits a multipart body on its boundary; preamble and epilogue are dropped. */
export function parseMultipart(body: Buffer, boundary: string): MimePart[] {
  if (!boundary || boundary.length > 70) throw new DecodeError(LAYER, 'malformed', 'bad boundary');
  const delim = Buffer.from(`--${boundary}`);
  const parts: MimePart[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw new DecodeError(LAYER, 'malformed', 'boundary not found');
  for (;;) {
    let after = pos + delim.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) return parts; // close-delimiter
    // rest of the delimiter line (transport padding) up to LF
    const eol = body.indexOf(0x0a, after);
    if (eol < 0) throw new DecodeError(LAYER, 'truncated', 'delimiter line not terminated');
    after = eol + 1;
    // next delimiter must start a line: CRLF--boundary (or LF--boundary)
    let next = body.indexOf(delim, after);
    while (next >= 0 && !(next === after || body[next - 1] === 0x0a)) next = body.indexOf(delim, next + 1);
    if (next < 0) throw new DecodeError(LAYER, 'truncated', 'missing close delimiter');
    let end = next;
    if (end > after && body[end - 1] === 0x0a) end--;
    if (end > after && body[end - 1] === 0x0d) end--;
    parts.push(parsePart(body.subarray(after, end)));
    pos = next;
  }
}
