// HEP3 encoder, for tests and the project's own traffic generator. Emits the
// generic chunks in the order Homer agents use, big-endian, payload last.
import { gzipSync } from 'node:zlib';
import { DecodeError } from '../layer.ts';
import { HEP_AF_INET, HEP_AF_INET6, HEP3_CHUNK } from './chunkTypes.ts';
import { ipv4ToBytes, ipv6ToBytes } from './ipAddress.ts';
import type { HepPacket } from './packet.ts';

export type HepEncodeInput = Omit<HepPacket, 'version' | 'compressed'> & {
  /** Put the payload in a gzip'ed 0x0010 chunk instead of 0x000f. */
  readonly compress?: boolean;
};

function chunk(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt16BE(0, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt16BE(6 + body.length, 4);
  return Buffer.concat([h, body]);
}

const u8 = (v: number) => Buffer.from([v & 0xff]);
const u16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
};

export function encodeHep3(p: HepEncodeInput): Buffer {
  const v6 = p.ipFamily === 6;
  const sec = p.timeNs / 1_000_000_000n;
  const usec = (p.timeNs % 1_000_000_000n) / 1000n;
  const parts = [
    chunk(HEP3_CHUNK.ipFamily, u8(v6 ? HEP_AF_INET6 : HEP_AF_INET)),
    chunk(HEP3_CHUNK.ipProtocol, u8(p.ipProtocol)),
    chunk(v6 ? HEP3_CHUNK.srcIPv6 : HEP3_CHUNK.srcIPv4, v6 ? ipv6ToBytes(p.src) : ipv4ToBytes(p.src)),
    chunk(v6 ? HEP3_CHUNK.dstIPv6 : HEP3_CHUNK.dstIPv4, v6 ? ipv6ToBytes(p.dst) : ipv4ToBytes(p.dst)),
    chunk(HEP3_CHUNK.srcPort, u16(p.srcPort)),
    chunk(HEP3_CHUNK.dstPort, u16(p.dstPort)),
    chunk(HEP3_CHUNK.timestampSeconds, u32(Number(sec))),
    chunk(HEP3_CHUNK.timestampMicroseconds, u32(Number(usec))),
    chunk(HEP3_CHUNK.protocolType, u8(p.protoType)),
  ];
  if (p.captureId !== undefined) parts.push(chunk(HEP3_CHUNK.captureAgentId, u32(p.captureId)));
  if (p.authKey !== undefined) parts.push(chunk(HEP3_CHUNK.authenticationKey, Buffer.from(p.authKey, 'utf8')));
  if (p.correlationId !== undefined) parts.push(chunk(HEP3_CHUNK.correlationId, Buffer.from(p.correlationId, 'utf8')));
  if (p.vlanId !== undefined) parts.push(chunk(HEP3_CHUNK.vlanId, u16(p.vlanId)));
  parts.push(p.compress ? chunk(HEP3_CHUNK.compressedPayload, gzipSync(p.payload)) : chunk(HEP3_CHUNK.payload, p.payload));
  const total = 6 + parts.reduce((n, b) => n + b.length, 0);
  if (total > 0xffff) throw new DecodeError('hep', 'unsupported', `HEP3 packet of ${total} bytes exceeds the 16-bit length`);
  const head = Buffer.from('HEP3\0\0', 'latin1');
  head.writeUInt16BE(total, 4);
  return Buffer.concat([head, ...parts], total);
}
