// Text forms of IP addresses: dotted quad, and RFC 5952 canonical IPv6
// (lowercase, longest zero run of two or more groups compressed), which is
// also what tshark prints.

export function formatIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

export function formatIpv6(buf: Buffer, off: number): string {
  // Find the longest run of zero groups (first one on ties).
  let bestAt = -1;
  let bestLen = 1;
  let runAt = -1;
  for (let g = 0; g < 8; g++) {
    const zero = buf[off + 2 * g] === 0 && buf[off + 2 * g + 1] === 0;
    if (zero) {
      if (runAt < 0) runAt = g;
      if (g - runAt + 1 > bestLen) {
        bestLen = g - runAt + 1;
        bestAt = runAt;
      }
    } else runAt = -1;
  }
  // IPv4-mapped addresses keep the dotted form, as RFC 5952 §5 recommends.
  if (bestAt === 0 && bestLen === 5 && buf[off + 10] === 0xff && buf[off + 11] === 0xff) {
    return `::ffff:${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`;
  }
  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestAt) {
      s += g === 0 ? '::' : ':';
      g += bestLen - 1;
      continue;
    }
    s += buf.readUInt16BE(off + 2 * g).toString(16);
    if (g < 7) s += ':';
  }
  return s;
}
