// IPv4/IPv6 address text <-> bytes for HEP chunks; IPv6 text per RFC 5952
// (lower-case, longest zero run compressed) so equal addresses compare equal.
import { DecodeError } from '../layer.ts';

export function ipv4ToString(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function ipv6ToString(b: Uint8Array, off = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted-quad tail
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4ToString(b, off + 12)}`;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function ipv4ToBytes(s: string): Buffer {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new DecodeError('hep', 'malformed', `bad IPv4 address ${s}`);
  }
  return Buffer.from(parts.map(Number));
}

export function ipv6ToBytes(s: string): Buffer {
  const out = Buffer.alloc(16);
  let text = s;
  // embedded IPv4 tail (::ffff:192.0.2.1)
  const lastColon = text.lastIndexOf(':');
  let tail: number[] = [];
  if (text.indexOf('.', lastColon) > 0) {
    const v4 = ipv4ToBytes(text.slice(lastColon + 1));
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = text.split('::');
  if (dbl.length > 2) throw new DecodeError('hep', 'malformed', `bad IPv6 address ${s}`);
  const parse = (t: string) =>
    t === ''
      ? []
      : t.split(':').map((g) => {
          if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new DecodeError('hep', 'malformed', `bad IPv6 address ${s}`);
          return parseInt(g, 16);
        });
  const head = parse(dbl[0]!);
  const rest = dbl.length === 2 ? parse(dbl[1]!) : [];
  let groups: number[];
  if (dbl.length === 2) {
    if (head.length + rest.length > 7) throw new DecodeError('hep', 'malformed', `bad IPv6 address ${s}`);
    groups = [...head, ...Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else groups = head;
  if (groups.length !== 8) throw new DecodeError('hep', 'malformed', `bad IPv6 address ${s}`);
  if (tail.length) [groups[6], groups[7]] = tail as [number, number];
  groups.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  return out;
}
