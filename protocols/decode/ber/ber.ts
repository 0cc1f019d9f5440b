// A small, allocation-light BER TLV reader shared by TCAP and MAP. Callers
// pass a reusable Tlv so walking a message allocates nothing per element;
// values stay as offsets into the original buffer (decode only what is used).
import { DecodeError } from '../layer.ts';

/** Tag class bits as they sit in the first identifier octet. */
export const UNIVERSAL = 0x00;
export const APPLICATION = 0x40;
export const CONTEXT = 0x80;
export const PRIVATE = 0xc0;
export const CONSTRUCTED = 0x20;

// Nesting bound for indefinite lengths: real TCAP/MAP nests < 10 deep, the
// bound keeps hostile input from recursing the stack away.
const MAX_DEPTH = 32;

export class Tlv {
  /** First identifier octet for low tag numbers (< 31); highTag(...) otherwise. */
  tag = 0;
  /** Tag number without class/constructed bits. */
  num = 0;
  constructed = false;
  /** Offset of the identifier octet. */
  start = 0;
  valueStart = 0;
  /** End of the contents (excludes the end-of-contents octets of an indefinite length). */
  valueEnd = 0;
  /** Offset just past this element. */
  end = 0;
}

/** Canonical `tag` value for tag numbers >= 31 (so they never collide with one-octet tags). */
export function highTag(classAndConstructed: number, num: number): number {
  return 0x1000000 + (classAndConstructed & 0xe0) * 0x10000 + num;
}

/** Context-specific tag [n], primitive or constructed, as Tlv.tag reports it. */
export function ctx(n: number, constructed = false): number {
  const cc = CONTEXT | (constructed ? CONSTRUCTED : 0);
  return n < 31 ? cc | n : highTag(cc, n);
}

/**
 * Reads one TLV at `off`, which must end by `limit`. Fills and returns `out`.
 * Throws DecodeError(layer, ...) on truncation or bad length encodings.
 */
export function readTlv(layer: string, buf: Uint8Array, off: number, limit: number, out: Tlv, depth = 0): Tlv {
  if (off + 2 > limit) throw new DecodeError(layer, 'truncated', `BER element at ${off}`);
  out.start = off;
  const b = buf[off++]!;
  out.constructed = (b & CONSTRUCTED) !== 0;
  let num = b & 0x1f;
  if (num === 0x1f) {
    num = 0;
    for (let i = 0; ; i++) {
      if (off >= limit) throw new DecodeError(layer, 'truncated', 'BER high tag number');
      if (i === 3) throw new DecodeError(layer, 'malformed', 'BER tag number too large');
      const t = buf[off++]!;
      num = num * 128 + (t & 0x7f);
      if ((t & 0x80) === 0) break;
    }
    out.tag = highTag(b, num);
  } else {
    out.tag = b;
  }
  out.num = num;
  if (off >= limit) throw new DecodeError(layer, 'truncated', 'BER length');
  let len = buf[off++]!;
  if (len === 0x80) {
    // Indefinite length (constructed only): contents run to the 00 00 end-of-contents.
    if (!out.constructed) throw new DecodeError(layer, 'malformed', 'indefinite length on primitive');
    if (depth >= MAX_DEPTH) throw new DecodeError(layer, 'malformed', 'BER nesting too deep');
    out.valueStart = off;
    const inner = new Tlv();
    let p = off;
    for (;;) {
      if (p + 2 > limit) throw new DecodeError(layer, 'truncated', 'BER end-of-contents');
      if (buf[p] === 0 && buf[p + 1] === 0) break;
      p = readTlv(layer, buf, p, limit, inner, depth + 1).end;
    }
    out.valueEnd = p;
    out.end = p + 2;
    return out;
  }
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 3) throw new DecodeError(layer, 'malformed', `BER length of ${n} octets`);
    if (off + n > limit) throw new DecodeError(layer, 'truncated', 'BER long length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off++]!;
  }
  if (off + len > limit) throw new DecodeError(layer, 'truncated', `BER value of ${len} at ${off}, limit ${limit}`);
  out.valueStart = off;
  out.valueEnd = off + len;
  out.end = off + len;
  return out;
}

/** Signed big-endian INTEGER (up to 6 octets). */
export function readInt(layer: string, buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 1 || n > 6) throw new DecodeError(layer, 'malformed', `INTEGER of ${n} octets`);
  let v = buf[start]! & 0x80 ? -1 : 0;
  for (let i = start; i < end; i++) v = v * 256 + buf[i]!;
  return v;
}

/** OBJECT IDENTIFIER contents as dotted text ("0.4.0.0.1.0.1.3"). */
export function readOid(layer: string, buf: Uint8Array, start: number, end: number): string {
  if (end <= start) throw new DecodeError(layer, 'malformed', 'empty OID');
  let out = '';
  let v = 0;
  let first = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 256) throw new DecodeError(layer, 'malformed', 'OID arc too large');
    if (b & 0x80) continue;
    if (first) {
      const x = v < 80 ? Math.floor(v / 40) : 2;
      out = `${x}.${v - x * 40}`;
      first = false;
    } else {
      out += `.${v}`;
    }
    v = 0;
  }
  if (buf[end - 1]! & 0x80) throw new DecodeError(layer, 'malformed', 'OID ends mid-arc');
  return out;
}
