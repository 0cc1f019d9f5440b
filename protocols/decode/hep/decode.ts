// HEP (Homer Encapsulation Protocol) decoder: v1/v2 fixed headers and v3
// ("HEP3") chunk lists. HEP v3 is big-endian throughout; v1/v2 carry ports in
// network order but the v2 time header in the sender's host order, which is
// little-endian on every agent that shipped it (x86 captagent/Kamailio/OpenSIPS).
import { gunzipSync, inflateSync } from 'node:zlib';
import { DecodeError, need } from '../layer.ts';
import { HEP_AF_INET, HEP_AF_INET6, HEP3_CHUNK } from './chunkTypes.ts';
import { ipv4ToString, ipv6ToString } from './ipAddress.ts';
import type { HepPacket } from './packet.ts';

const LAYER = 'hep';
const MAX_INFLATED = 1 << 20;

export function isHep3(buf: Uint8Array): boolean {
  return buf.length >= 6 && buf[0] === 0x48 && buf[1] === 0x45 && buf[2] === 0x50 && buf[3] === 0x33;
}

/** Decodes one HEP packet (a UDP datagram, or one packet framed out of a TCP stream). */
export function decodeHep(buf: Buffer): HepPacket {
  need(LAYER, buf, 0, 4, 'HEP header');
  if (isHep3(buf)) return decodeHep3(buf);
  const v = buf[0];
  if (v === 1 || v === 2) return decodeHep12(buf);
  throw new DecodeError(LAYER, 'unknown', `not HEP (first byte 0x${v!.toString(16)})`);
}

function family(af: number): 4 | 6 {
  if (af === HEP_AF_INET) return 4;
  if (af === HEP_AF_INET6 || af === 28 || af === 30) return 6; // BSD/macOS AF_INET6 values too
  throw new DecodeError(LAYER, 'unsupported', `address family ${af}`);
}

function decodeHep12(buf: Buffer): HepPacket {
  need(LAYER, buf, 0, 8, 'HEP v1/v2 header');
  const version = buf[0] as 1 | 2;
  const headerLen = buf[1]!;
  const ipFamily = family(buf[2]!);
  const ipProtocol = buf[3]!;
  const srcPort = buf.readUInt16BE(4);
  const dstPort = buf.readUInt16BE(6);
  const alen = ipFamily === 4 ? 4 : 16;
  need(LAYER, buf, 8, 2 * alen, 'HEP v1/v2 addresses');
  if (headerLen !== 8 + 2 * alen) throw new DecodeError(LAYER, 'malformed', `header length ${headerLen} for IPv${ipFamily}`);
  const toStr = ipFamily === 4 ? ipv4ToString : ipv6ToString;
  const src = toStr(buf, 8);
  const dst = toStr(buf, 8 + alen);
  let off = 8 + 2 * alen;
  let timeNs = 0n;
  let captureId: number | undefined;
  if (version === 2) {
    need(LAYER, buf, off, 10, 'HEP v2 time header');
    const sec = buf.readUInt32LE(off);
    const usec = buf.readUInt32LE(off + 4);
    if (usec >= 1_000_000) throw new DecodeError(LAYER, 'malformed', `microseconds ${usec}`);
    captureId = buf.readUInt16LE(off + 8);
    timeNs = BigInt(sec) * 1_000_000_000n + BigInt(usec) * 1000n;
    // struct hep_timehdr is 12 bytes with 2 bytes of padding when the sender's compiler pads it
    off += buf.length >= off + 12 && buf[off + 10] === 0 && buf[off + 11] === 0 ? 12 : 10;
  }
  const pkt: { -readonly [K in keyof HepPacket]: HepPacket[K] } = {
    version,
    ipFamily,
    ipProtocol,
    src,
    dst,
    srcPort,
    dstPort,
    timeNs,
    protoType: 1,
    payload: buf.subarray(off),
  };
  if (captureId !== undefined) pkt.captureId = captureId;
  return pkt;
}

function decodeHep3(buf: Buffer): HepPacket {
  const total = buf.readUInt16BE(4);
  if (total < 6) throw new DecodeError(LAYER, 'malformed', `total length ${total}`);
  if (total > buf.length) throw new DecodeError(LAYER, 'truncated', `HEP3 length ${total}, have ${buf.length}`);
  let af: number | undefined;
  let ipProtocol = 0;
  let src4: string | undefined, dst4: string | undefined, src6: string | undefined, dst6: string | undefined;
  let srcPort = 0,
    dstPort = 0,
    sec: number | undefined,
    usec = 0,
    protoType = 0;
  let captureId: number | undefined, authKey: string | undefined, correlationId: string | undefined, vlanId: number | undefined;
  let payload: Buffer | undefined;
  let compressed = false;

  let off = 6;
  while (off < total) {
    if (total - off < 6) throw new DecodeError(LAYER, 'malformed', `chunk header at ${off} crosses packet end`);
    const vendor = buf.readUInt16BE(off);
    const type = buf.readUInt16BE(off + 2);
    const len = buf.readUInt16BE(off + 4);
    if (len < 6 || off + len > total) throw new DecodeError(LAYER, 'malformed', `chunk 0x${type.toString(16)} length ${len} at ${off}`);
    const body = buf.subarray(off + 6, off + len);
    off += len;
    if (vendor !== 0) continue; // vendor-specific chunks: not ours to interpret
    const size = (n: number) => {
      if (body.length !== n) throw new DecodeError(LAYER, 'malformed', `chunk 0x${type.toString(16)} has ${body.length} bytes, want ${n}`);
    };
    switch (type) {
      case HEP3_CHUNK.ipFamily:
        size(1);
        af = body[0];
        break;
      case HEP3_CHUNK.ipProtocol:
        size(1);
        ipProtocol = body[0]!;
        break;
      case HEP3_CHUNK.srcIPv4:
        size(4);
        src4 = ipv4ToString(body);
        break;
      case HEP3_CHUNK.dstIPv4:
        size(4);
        dst4 = ipv4ToString(body);
        break;
      case HEP3_CHUNK.srcIPv6:
        size(16);
        src6 = ipv6ToString(body);
        break;
      case HEP3_CHUNK.dstIPv6:
        size(16);
        dst6 = ipv6ToString(body);
        break;
      case HEP3_CHUNK.srcPort:
        size(2);
        srcPort = body.readUInt16BE(0);
        break;
      case HEP3_CHUNK.dstPort:
        size(2);
        dstPort = body.readUInt16BE(0);
        break;
      case HEP3_CHUNK.timestampSeconds:
        size(4);
        sec = body.readUInt32BE(0);
        break;
      case HEP3_CHUNK.timestampMicroseconds:
        size(4);
        usec = body.readUInt32BE(0);
        break;
      case HEP3_CHUNK.protocolType:
        size(1);
        protoType = body[0]!;
        break;
      case HEP3_CHUNK.captureAgentId:
        // uint32 per spec; some agents send 16 bits
        if (body.length === 4) captureId = body.readUInt32BE(0);
        else if (body.length === 2) captureId = body.readUInt16BE(0);
        else size(4);
        break;
      case HEP3_CHUNK.authenticationKey:
        authKey = body.toString('utf8');
        break;
      case HEP3_CHUNK.correlationId:
        correlationId = body.toString('utf8');
        break;
      case HEP3_CHUNK.vlanId:
        size(2);
        vlanId = body.readUInt16BE(0);
        break;
      case HEP3_CHUNK.payload:
        payload = body;
        break;
      case HEP3_CHUNK.compressedPayload:
        payload = inflate(body);
        compressed = true;
        break;
      default:
        break; // keep-alive, MOS, tags...: not needed downstream
    }
  }
  if (af === undefined) throw new DecodeError(LAYER, 'malformed', 'HEP3 without IP family chunk');
  const ipFamily = family(af);
  const src = ipFamily === 4 ? src4 : src6;
  const dst = ipFamily === 4 ? dst4 : dst6;
  if (src === undefined || dst === undefined) throw new DecodeError(LAYER, 'malformed', `HEP3 without IPv${ipFamily} addresses`);
  if (payload === undefined) throw new DecodeError(LAYER, 'malformed', 'HEP3 without payload chunk');
  if (usec >= 1_000_000) throw new DecodeError(LAYER, 'malformed', `microseconds ${usec}`);
  const pkt: { -readonly [K in keyof HepPacket]: HepPacket[K] } = {
    version: 3,
    ipFamily,
    ipProtocol,
    src,
    dst,
    srcPort,
    dstPort,
    timeNs: sec === undefined ? 0n : BigInt(sec) * 1_000_000_000n + BigInt(usec) * 1000n,
    protoType,
    payload,
  };
  if (captureId !== undefined) pkt.captureId = captureId;
  if (authKey !== undefined) pkt.authKey = authKey;
  if (correlationId !== undefined) pkt.correlationId = correlationId;
  if (vlanId !== undefined) pkt.vlanId = vlanId;
  if (compressed) pkt.compressed = true;
  return pkt;
}

function inflate(body: Buffer): Buffer {
  try {
    // gzip per the spec; some agents send a bare zlib stream
    return body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body, { maxOutputLength: MAX_INFLATED }) : inflateSync(body, { maxOutputLength: MAX_INFLATED });
  } catch (e) {
    throw new DecodeError(LAYER, 'malformed', `compressed payload: ${(e as Error).message}`);
  }
}
