// Content-based SIP recognition for any port (SIP runs on 5060/5061 but also on
// whatever a network operator chose). Looks only at the first line: either
// "SIP/2.0 NNN" or "METHOD scheme:... SIP/2.0". No allocation, no regex.

const MAX_FIRST_LINE = 2048;
const SIP20 = [0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30]; // "SIP/2.0"

function isTokenChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x21 ||
    c === 0x25 ||
    c === 0x2a ||
    c === 0x5f ||
    c === 0x2b ||
    c === 0x60 ||
    c === 0x27 ||
    c === 0x7e
  );
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function matchSip20(buf: Uint8Array, at: number): boolean {
  if (at + 7 > buf.length) return false;
  for (let i = 0; i < 7; i++) {
    const c = buf[at + i]!;
    // case-insensitive "SIP" (RFC 3261 §7.1), digits and '/' exact
    if ((i < 3 ? c & 0xdf : c) !== SIP20[i]) return false;
  }
  return true;
}

export function looksLikeSip(buf: Uint8Array): boolean {
  let p = 0;
  while (p < buf.length && p < 8 && (buf[p] === 0x0d || buf[p] === 0x0a)) p++;
  if (buf.length - p < 12) return false;
  // Status-Line
  if (matchSip20(buf, p)) {
    const s = p + 7;
    return (
      buf[s] === 0x20 &&
      buf[s + 1]! >= 0x31 &&
      buf[s + 1]! <= 0x36 &&
      buf[s + 2]! >= 0x30 &&
      buf[s + 2]! <= 0x39 &&
      buf[s + 3]! >= 0x30 &&
      buf[s + 3]! <= 0x39 &&
      (s + 4 === buf.length || buf[s + 4] === 0x20 || buf[s + 4] === 0x0d || buf[s + 4] === 0x0a)
    );
  }
  // Request-Line: token SP scheme ":" ... SP "SIP/2.0" CRLF
  let i = p;
  while (i < buf.length && i - p < 64 && isTokenChar(buf[i]!)) i++;
  if (i === p || buf[i] !== 0x20) return false;
  i++;
  const schemeStart = i;
  while (i < buf.length && i - schemeStart < 16 && (isAlpha(buf[i]!) || (i > schemeStart && isTokenChar(buf[i]!)))) i++;
  if (i === schemeStart || buf[i] !== 0x3a) return false;
  const limit = Math.min(buf.length, p + MAX_FIRST_LINE);
  while (i < limit && buf[i] !== 0x0a && buf[i] !== 0x0d) i++;
  // the line ends with " SIP/2.0"
  const vStart = i - 7;
  return vStart > schemeStart && buf[vStart - 1] === 0x20 && matchSip20(buf, vStart);
}
