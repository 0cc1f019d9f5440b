// Link-level framing shared by every generated packet: Ethernet II, IPv4,
// then either SCTP (one DATA chunk, PPID 3, carrying an M3UA DATA message,
// RFC 4960 / RFC 4666) or UDP (SIP). Headers are written with placeholder
// lengths, the payload is written after them in place, and `end*` patches
// lengths and checksums: one pass, no copying.
import { crc32c } from './crc32c.ts';
import { MAX_NODES } from './network.ts';
import type { Writer } from '../../protocols/decode/byteWriter.ts';

const ETH = 14;
const IP = 20;
const SCTP_COMMON = 12;
const DATA_CHUNK = 16;
const M3UA_HEADER = 8;

export const M3UA_PPID = 3;
export const M3UA_PORT = 2905;
export const SIP_PORT = 5060;
/** MTP3 service indicators (Q.704 §14.2.1). */
export const SI_SCCP = 3;
export const SI_ISUP = 5;
/** Network indicator: national network (ITU Q.704). */
const NI_NATIONAL = 2;

/**
 * Per-direction SCTP state so TSNs and stream sequence numbers advance like
 * one long-lived association per node pair (Wireshark's TSN analysis checks).
 */
export class SctpAssociations {
  private readonly tsn = new Uint32Array(MAX_NODES * MAX_NODES);
  private readonly ssn = new Uint16Array(MAX_NODES * MAX_NODES);
  private readonly started = new Uint8Array(MAX_NODES * MAX_NODES);
  private ipId = 0;

  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  /** The TSN of the next DATA chunk from src to dst. */
  next(src: number, dst: number): number {
    const k = src * MAX_NODES + dst;
    if (!this.started[k]) {
      this.started[k] = 1;
      // An arbitrary but stable initial TSN per direction.
      this.tsn[k] = (Math.imul(k + 1, 0x9e3779b1) >>> 0) & 0x0fffffff;
    }
    const t = this.tsn[k]!;
    this.tsn[k] = (t + 1) >>> 0;
    return t;
  }

  streamSeq(src: number, dst: number): number {
    const k = src * MAX_NODES + dst;
    const s = this.ssn[k]!;
    this.ssn[k] = (s + 1) & 0xffff;
    return s;
  }

  /** Verification tag the receiver of src→dst expects (stable per pair). */
  vtag(src: number, dst: number): number {
    return (Math.imul(dst * MAX_NODES + src + 7, 0x85ebca6b) >>> 0) | 1;
  }
}

function mac(w: Writer, ip: number): void {
  // Locally administered unicast MAC embedding the IPv4 address.
  w.u8(0x02);
  w.u8(0x00);
  w.u32(ip);
}

function ethIp(w: Writer, srcIp: number, dstIp: number, proto: number, ipId: number): void {
  mac(w, dstIp);
  mac(w, srcIp);
  w.u16(0x0800);
  w.u8(0x45);
  w.u8(0);
  w.u16(0); // total length, patched
  w.u16(ipId);
  w.u16(0x4000); // DF
  w.u8(64);
  w.u8(proto);
  w.u16(0); // header checksum, patched
  w.u32(srcIp);
  w.u32(dstIp);
}

function finishIp(w: Writer, start: number): void {
  const b = w.buf;
  const ip = start + ETH;
  b.writeUInt16BE(w.pos - ip, ip + 2);
  let sum = 0;
  for (let i = ip; i < ip + IP; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, ip + 10);
}

export interface SigEndpoint {
  id: number;
  ip: number;
  pc: number;
}

/**
 * Writes Ethernet/IPv4/SCTP/DATA/M3UA headers for an MTP3 user message from
 * src to dst; returns the frame start for `endM3ua`. The caller then writes
 * the MTP3 user part (SCCP or ISUP) at the cursor.
 */
export function beginM3ua(w: Writer, assoc: SctpAssociations, src: SigEndpoint, dst: SigEndpoint, si: number, sls: number): number {
  const start = w.pos;
  ethIp(w, src.ip, dst.ip, 132, assoc.nextIpId());
  // SCTP common header
  w.u16(M3UA_PORT);
  w.u16(M3UA_PORT);
  w.u32(assoc.vtag(src.id, dst.id));
  w.u32(0); // CRC32c, patched
  // DATA chunk: unordered=0, B=1, E=1 (one unfragmented user message)
  w.u8(0);
  w.u8(0x03);
  w.u16(0); // chunk length, patched
  w.u32(assoc.next(src.id, dst.id));
  w.u16(1); // stream 1: stream 0 is conventionally kept for M3UA management
  w.u16(assoc.streamSeq(src.id, dst.id));
  w.u32(M3UA_PPID);
  // M3UA common header: version 1, class 1 (transfer), type 1 (DATA)
  w.u8(1);
  w.u8(0);
  w.u8(1);
  w.u8(1);
  w.u32(0); // message length, patched
  // Protocol Data parameter (tag 0x0210)
  w.u16(0x0210);
  w.u16(0); // parameter length, patched
  w.u32(src.pc);
  w.u32(dst.pc);
  w.u8(si);
  w.u8(NI_NATIONAL);
  w.u8(0); // message priority
  w.u8(sls & 0x0f);
  return start;
}

export function endM3ua(w: Writer, start: number): void {
  const b = w.buf;
  const sctp = start + ETH + IP;
  const chunk = sctp + SCTP_COMMON;
  const m3ua = chunk + DATA_CHUNK;
  const pd = m3ua + M3UA_HEADER;
  b.writeUInt16BE(w.pos - pd, pd + 2); // parameter length excludes padding
  w.pad4(m3ua);
  b.writeUInt32BE(w.pos - m3ua, m3ua + 4);
  b.writeUInt16BE(w.pos - chunk, chunk + 2);
  finishIp(w, start);
  b.writeUInt32LE(crc32c(b, sctp, w.pos), sctp + 8); // CRC32c goes on the wire little-endian
}

export function beginUdp(w: Writer, assoc: SctpAssociations, srcIp: number, dstIp: number, srcPort: number, dstPort: number): number {
  const start = w.pos;
  ethIp(w, srcIp, dstIp, 17, assoc.nextIpId());
  w.u16(srcPort);
  w.u16(dstPort);
  w.u16(0); // length, patched
  w.u16(0); // checksum 0 = not computed (allowed over IPv4, RFC 768)
  return start;
}

export function endUdp(w: Writer, start: number): void {
  const udp = start + ETH + IP;
  w.buf.writeUInt16BE(w.pos - udp, udp + 4);
  finishIp(w, start);
}
