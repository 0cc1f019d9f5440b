// Runs a captured frame down the stack, link → IP (with fragment reassembly,
// tunnels and port mirroring unwrapped) → UDP / TCP (stream reassembly) /
// SCTP (DATA chunks, message reassembly), and returns what the signaling
// layers consume: transport payloads with their addresses and a flow key.
//
// Errors propagate as DecodeError for the caller to count; all state lives in
// bounded reassemblers, so a bad frame never poisons the ones after it.
import { DecodeError } from './layer.ts';
import type { CapturedFrame } from './pcap/capturedFrame.ts';
import { decodeLink, ipEtherType } from './link/linkLayer.ts';
import { decodeEthernet } from './link/ethernet.ts';
import { ETHERTYPE } from './link/etherTypes.ts';
import { decodeGre } from './link/gre.ts';
import { decodeErspan } from './link/erspan.ts';
import { decodeIpv4 } from './ip/ipv4.ts';
import { decodeIpv6, walkIpv6Extensions } from './ip/ipv6.ts';
import { IPPROTO } from './ip/ipProtocols.ts';
import { formatIpv4, formatIpv6 } from './ip/ipAddress.ts';
import { FragmentReassembler, type FragmentReassemblerOptions, type FragmentStats } from './ip/fragmentReassembler.ts';
import { decodeUdp } from './udp/udp.ts';
import { decodeTcp } from './tcp/tcp.ts';
import { TcpStreams, type TcpChunk, type TcpStreamOptions, type TcpStreamStats } from './tcp/streams.ts';
import { decodeSctp } from './sctp/sctp.ts';
import { SctpReassembler, type SctpReassemblyOptions, type SctpReassemblyStats } from './sctp/reassembly.ts';
import { SctpDuplicateFilter } from './sctp/duplicateFilter.ts';

type Transport = 'udp' | 'tcp' | 'sctp';

export interface TransportPayload {
  /** Frame that completed this payload (tshark frame.number). */
  frame: number;
  timeNs: bigint;
  transport: Transport;
  /** Source and destination IP addresses (dotted quad, or RFC 5952 IPv6). */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** Stable key of this direction, e.g. 'tcp:1.2.3.4:5060>5.6.7.8:40000' ('[v6]:port' for IPv6). */
  flow: string;
  /** UDP datagram payload, TCP stream chunk, or SCTP user message. */
  payload: Buffer;
  /** TCP only: bytes lost just before this chunk (the stream had a hole), when non-zero. */
  gap?: number;
  sctp?: { ppid: number; streamId: number; ssn: number; tsn: number };
}

interface FrameDissectorOptions {
  ipFragments?: FragmentReassemblerOptions;
  tcp?: TcpStreamOptions;
  sctp?: SctpReassemblyOptions;
  /** Drop retransmitted SCTP DATA chunks (same TSN in the same association direction). Default true. */
  sctpDropDuplicates?: boolean;
  /** Tunnels (GRE, ERSPAN, IP-in-IP) unwrapped at most. Default 4. */
  maxEncapsulation?: number;
}

interface FrameDissectorStats {
  frames: number;
  /** Frames (or tunnel payloads) that are not IP: ARP, STP, LLC... */
  nonIp: number;
  ipPackets: number;
  /** IP packets of other protocols (ICMP, ESP, OSPF...). */
  otherIpProtocol: number;
  tunnels: number;
  udpDatagrams: number;
  tcpSegments: number;
  sctpPackets: number;
  sctpDataChunks: number;
  sctpControlChunks: number;
  sctpIDataChunks: number;
  /** Retransmitted DATA chunks dropped. */
  sctpDuplicates: number;
  payloads: number;
  ipv4Fragments: FragmentStats;
  ipv6Fragments: FragmentStats;
  tcpStreams: TcpStreamStats;
  sctpReassembly: SctpReassemblyStats;
}

interface Endpoints {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
}

const ADDRESS_CACHE_LIMIT = 65536;

export class FrameDissector {
  readonly stats: FrameDissectorStats;
  private readonly frag4: FragmentReassembler;
  private readonly frag6: FragmentReassembler<number>;
  private readonly tcp: TcpStreams<Endpoints>;
  private readonly sctp: SctpReassembler;
  private readonly sctpDuplicates: SctpDuplicateFilter | undefined;
  private readonly maxEncapsulation: number;
  /** IPv4 text forms: signaling runs between few hosts, so formatting once pays. */
  private readonly v4Names = new Map<number, string>();
  private readonly chunks: TcpChunk<Endpoints>[] = [];
  private frame = 0;
  private timeNs = 0n;
  private nowMs = 0;

  constructor(opts: FrameDissectorOptions = {}) {
    this.frag4 = new FragmentReassembler(opts.ipFragments);
    this.frag6 = new FragmentReassembler<number>(opts.ipFragments);
    this.tcp = new TcpStreams<Endpoints>(opts.tcp);
    this.sctp = new SctpReassembler(opts.sctp);
    this.sctpDuplicates = opts.sctpDropDuplicates === false ? undefined : new SctpDuplicateFilter();
    this.maxEncapsulation = opts.maxEncapsulation ?? 4;
    this.stats = {
      frames: 0,
      nonIp: 0,
      ipPackets: 0,
      otherIpProtocol: 0,
      tunnels: 0,
      udpDatagrams: 0,
      tcpSegments: 0,
      sctpPackets: 0,
      sctpDataChunks: 0,
      sctpControlChunks: 0,
      sctpIDataChunks: 0,
      sctpDuplicates: 0,
      payloads: 0,
      ipv4Fragments: this.frag4.stats,
      ipv6Fragments: this.frag6.stats,
      tcpStreams: this.tcp.stats,
      sctpReassembly: this.sctp.stats,
    };
  }

  /** Payloads this frame completes (none for non-IP frames, lone fragments, pure ACKs...). */
  dissect(frame: CapturedFrame): TransportPayload[] {
    const out: TransportPayload[] = [];
    this.stats.frames++;
    this.frame = frame.index;
    this.timeNs = frame.timeNs;
    this.nowMs = Number(frame.timeNs) / 1e6;
    const data = frame.data;
    const link = decodeLink(frame.linkType, data);
    this.network(data, link.etherType, link.offset, data.length, 0, out);
    return out;
  }

  /** End of input: TCP bytes still waiting behind holes are delivered; partial fragments are dropped. */
  flush(): TransportPayload[] {
    const out: TransportPayload[] = [];
    this.tcp.flush(this.chunks);
    this.emitChunks(out);
    this.frag4.clear();
    this.frag6.clear();
    this.sctp.clear();
    return out;
  }

  private network(buf: Buffer, etherType: number, off: number, end: number, depth: number, out: TransportPayload[]): void {
    if (etherType === ETHERTYPE.ipv4) this.ipv4(buf, off, end, depth, out);
    else if (etherType === ETHERTYPE.ipv6) this.ipv6(buf, off, end, depth, out);
    else this.stats.nonIp++;
  }

  private ipv4(buf: Buffer, off: number, end: number, depth: number, out: TransportPayload[]): void {
    const h = decodeIpv4(buf, off, end);
    this.stats.ipPackets++;
    const src = this.v4Name(h.src);
    const dst = this.v4Name(h.dst);
    if (h.moreFragments || h.fragmentOffset > 0) {
      const key = `${h.src}|${h.dst}|${h.id}|${h.protocol}`;
      const whole = this.frag4.add(key, this.nowMs, h.fragmentOffset, buf.subarray(h.payloadOffset, h.payloadEnd), h.moreFragments);
      if (whole === undefined) return;
      this.transport(whole.payload, 0, whole.payload.length, h.protocol, src, dst, false, depth, out);
      return;
    }
    this.transport(buf, h.payloadOffset, h.payloadEnd, h.protocol, src, dst, false, depth, out);
  }

  private ipv6(buf: Buffer, off: number, end: number, depth: number, out: TransportPayload[]): void {
    const h = decodeIpv6(buf, off, end);
    this.stats.ipPackets++;
    const src = formatIpv6(h.src, 0);
    const dst = formatIpv6(h.dst, 0);
    const f = h.fragment;
    if (f !== undefined) {
      const key = `${src}|${dst}|${f.id}`;
      const whole = this.frag6.add(key, this.nowMs, f.offset, buf.subarray(h.payloadOffset, h.payloadEnd), f.more, f.nextHeader);
      if (whole === undefined) return;
      const p = whole.payload;
      const chain = walkIpv6Extensions(p, 0, p.length, whole.meta ?? IPPROTO.noNext);
      if (chain.fragment !== undefined) throw new DecodeError('ip', 'malformed', 'ipv6 fragment header inside a reassembled payload');
      this.transport(p, chain.offset, p.length, chain.protocol, src, dst, true, depth, out);
      return;
    }
    this.transport(buf, h.payloadOffset, h.payloadEnd, h.protocol, src, dst, true, depth, out);
  }

  private transport(buf: Buffer, off: number, end: number, proto: number, src: string, dst: string, v6: boolean, depth: number, out: TransportPayload[]): void {
    switch (proto) {
      case IPPROTO.udp: {
        const u = decodeUdp(buf, off, end);
        this.stats.udpDatagrams++;
        out.push(this.payload('udp', src, dst, u.srcPort, u.dstPort, v6, buf.subarray(u.payloadOffset, u.payloadEnd), this.frame, this.timeNs));
        this.stats.payloads++;
        return;
      }
      case IPPROTO.tcp: {
        const t = decodeTcp(buf, off, end);
        this.stats.tcpSegments++;
        const flow = flowKey('tcp', src, dst, t.srcPort, t.dstPort, v6);
        this.tcp.push(
          flow,
          { src, dst, srcPort: t.srcPort, dstPort: t.dstPort },
          t.seq,
          t.flags,
          buf.subarray(t.payloadOffset, t.payloadEnd),
          this.frame,
          this.timeNs,
          this.chunks,
        );
        this.emitChunks(out);
        return;
      }
      case IPPROTO.sctp: {
        this.sctpPacket(buf, off, end, src, dst, v6, out);
        return;
      }
      case IPPROTO.gre:
        this.gre(buf, off, end, depth, out);
        return;
      case IPPROTO.ipip:
        this.tunnel(depth);
        this.ipv4(buf, off, end, depth + 1, out);
        return;
      case IPPROTO.ipv6:
        this.tunnel(depth);
        this.ipv6(buf, off, end, depth + 1, out);
        return;
      default:
        this.stats.otherIpProtocol++;
    }
  }

  private sctpPacket(buf: Buffer, off: number, end: number, src: string, dst: string, v6: boolean, out: TransportPayload[]): void {
    const p = decodeSctp(buf, off, end);
    this.stats.sctpPackets++;
    this.stats.sctpDataChunks += p.data.length;
    this.stats.sctpControlChunks += p.controlChunks;
    this.stats.sctpIDataChunks += p.iDataChunks;
    if (p.data.length === 0) return;
    // An association direction is identified by ports and verification tag, not
    // addresses, so the paths of a multi-homed association share TSN state.
    const dupKey = p.verificationTag * 65536 + p.srcPort;
    let assoc: string | undefined;
    let flow: string | undefined;
    for (const chunk of p.data) {
      if (this.sctpDuplicates?.isDuplicate(dupKey, chunk.tsn)) {
        this.stats.sctpDuplicates++;
        continue;
      }
      let message;
      if (chunk.begin && chunk.end) message = { data: chunk.data, first: chunk };
      else {
        assoc ??= `${p.srcPort}>${p.dstPort}/${p.verificationTag}`;
        message = this.sctp.add(assoc, chunk, this.nowMs);
        if (message === undefined) continue;
      }
      flow ??= flowKey('sctp', src, dst, p.srcPort, p.dstPort, v6);
      const first = message.first;
      out.push({
        frame: this.frame,
        timeNs: this.timeNs,
        transport: 'sctp',
        src,
        dst,
        srcPort: p.srcPort,
        dstPort: p.dstPort,
        flow,
        payload: message.data,
        sctp: { ppid: first.ppid, streamId: first.streamId, ssn: first.ssn, tsn: first.tsn },
      });
      this.stats.payloads++;
    }
  }

  private gre(buf: Buffer, off: number, end: number, depth: number, out: TransportPayload[]): void {
    this.tunnel(depth);
    const g = decodeGre(buf, off, end);
    if (g.protocol === ETHERTYPE.erspan2 || g.protocol === ETHERTYPE.erspan3) {
      const e = decodeErspan(buf, g, end);
      if (e.payload === 'ip') this.network(buf, ipEtherType(buf, e.offset), e.offset, end, depth + 1, out);
      else this.innerEthernet(buf, e.offset, end, depth, out);
    } else if (g.protocol === ETHERTYPE.transparentEthernetBridging) {
      this.innerEthernet(buf, g.offset, end, depth, out);
    } else {
      this.network(buf, g.protocol, g.offset, end, depth + 1, out);
    }
  }

  private innerEthernet(buf: Buffer, off: number, end: number, depth: number, out: TransportPayload[]): void {
    const inner = buf.subarray(off, end);
    const link = decodeEthernet(inner, 0);
    this.network(inner, link.etherType, link.offset, inner.length, depth + 1, out);
  }

  private tunnel(depth: number): void {
    if (depth >= this.maxEncapsulation) {
      throw new DecodeError('ip', 'unsupported', `more than ${this.maxEncapsulation} nested tunnels`);
    }
    this.stats.tunnels++;
  }

  private emitChunks(out: TransportPayload[]): void {
    const chunks = this.chunks;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      const e = c.meta;
      const p: TransportPayload = {
        frame: c.frame,
        timeNs: c.timeNs,
        transport: 'tcp',
        src: e.src,
        dst: e.dst,
        srcPort: e.srcPort,
        dstPort: e.dstPort,
        flow: c.flow,
        payload: c.data,
      };
      if (c.gap > 0) p.gap = c.gap;
      out.push(p);
      this.stats.payloads++;
    }
    chunks.length = 0;
  }

  private payload(
    transport: Transport,
    src: string,
    dst: string,
    srcPort: number,
    dstPort: number,
    v6: boolean,
    payload: Buffer,
    frame: number,
    timeNs: bigint,
  ): TransportPayload {
    return { frame, timeNs, transport, src, dst, srcPort, dstPort, flow: flowKey(transport, src, dst, srcPort, dstPort, v6), payload };
  }

  private v4Name(addr: number): string {
    let s = this.v4Names.get(addr);
    if (s === undefined) {
      if (this.v4Names.size >= ADDRESS_CACHE_LIMIT) this.v4Names.clear();
      s = formatIpv4(addr);
      this.v4Names.set(addr, s);
    }
    return s;
  }
}

/** The direction key: 'udp:1.2.3.4:5060>5.6.7.8:5060', IPv6 addresses in brackets. */
function flowKey(transport: Transport, src: string, dst: string, srcPort: number, dstPort: number, v6: boolean): string {
  return v6 ? `${transport}:[${src}]:${srcPort}>[${dst}]:${dstPort}` : `${transport}:${src}:${srcPort}>${dst}:${dstPort}`;
}
