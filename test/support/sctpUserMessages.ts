// Test-only helper: pulls SCTP DATA chunk payloads (user messages) out of a
// pcap so the SS7 layers can be tested before the shared pcap/SCTP decoders
// land. Deliberately minimal: classic pcap (optionally gzipped), Ethernet
// (+VLAN) or Linux cooked, IPv4/IPv6 without fragments, complete DATA chunks.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface SctpUserMessage {
  frame: number; // 1-based, as tshark numbers frames
  timeNs: bigint;
  ppid: number;
  payload: Buffer;
}

export function sctpUserMessages(file: string): SctpUserMessage[] {
  let data = readFileSync(file);
  if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const linkType = u32(20);
  const out: SctpUserMessage[] = [];
  let off = 24;
  let frame = 0;
  while (off + 16 <= data.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const caplen = u32(off + 8);
    const pkt = data.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    frame++;
    const timeNs = BigInt(sec) * 1_000_000_000n + BigInt(nano ? frac : frac * 1000);
    let p: number;
    let etherType: number;
    if (linkType === 1) {
      p = 14;
      etherType = pkt.readUInt16BE(12);
      while (etherType === 0x8100 || etherType === 0x88a8) {
        etherType = pkt.readUInt16BE(p + 2);
        p += 4;
      }
    } else if (linkType === 113) {
      p = 16;
      etherType = pkt.readUInt16BE(14);
    } else continue;
    let proto: number;
    let end: number;
    if (etherType === 0x0800) {
      const ihl = (pkt[p]! & 0x0f) * 4;
      proto = pkt[p + 9]!;
      end = Math.min(pkt.length, p + pkt.readUInt16BE(p + 2));
      if ((pkt.readUInt16BE(p + 6) & 0x3fff) !== 0) continue; // fragment
      p += ihl;
    } else if (etherType === 0x86dd) {
      proto = pkt[p + 6]!;
      end = Math.min(pkt.length, p + 40 + pkt.readUInt16BE(p + 4));
      p += 40;
    } else continue;
    if (proto !== 132) continue;
    p += 12; // SCTP common header
    while (p + 4 <= end) {
      const type = pkt[p]!;
      const flags = pkt[p + 1]!;
      const len = pkt.readUInt16BE(p + 2);
      if (len < 4 || p + len > end) break;
      if (type === 0 && (flags & 0x03) === 0x03 && len >= 16) {
        out.push({ frame, timeNs, ppid: pkt.readUInt32BE(p + 12), payload: pkt.subarray(p + 16, p + len) });
      }
      p += (len + 3) & ~3;
    }
  }
  return out;
}
