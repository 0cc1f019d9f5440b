// Hand-builds frames (Ethernet, VLAN, Linux cooked, GRE, ERSPAN, IPv4/IPv6,
// UDP, TCP, SCTP) for traffic generators and tests. Written from the RFCs,
// independently of the decoders, and checked against tshark in the tests.
// Not for hot paths: it allocates freely.

export function ipv4Address(text: string): Buffer {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4 address ${text}`);
  return Buffer.from(parts);
}

export function ipv6Address(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`bad IPv6 address ${text}`);
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  return b;
}

function mac(text: string): Buffer {
  return Buffer.from(text.split(':').map((x) => parseInt(x, 16)));
}

export interface VlanTag {
  tpid?: number; // 0x8100 (default) or 0x88a8
  vid: number;
}

export function ethernet(etherType: number, payload: Buffer, opts: { vlans?: VlanTag[]; src?: string; dst?: string } = {}): Buffer {
  const tags = (opts.vlans ?? []).map((v) => {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(v.tpid ?? 0x8100, 0);
    b.writeUInt16BE(v.vid & 0x0fff, 2);
    return b;
  });
  // Tag i carries the TPID of tag i and is followed by the next TPID / the EtherType: rebuild as a chain.
  const chain: Buffer[] = [mac(opts.dst ?? '00:00:5e:00:53:01'), mac(opts.src ?? '00:00:5e:00:53:02')];
  for (const t of tags) chain.push(t.subarray(0, 2), t.subarray(2, 4));
  const type = Buffer.alloc(2);
  type.writeUInt16BE(etherType, 0);
  chain.push(type, payload);
  return Buffer.concat(chain);
}

export function linuxSll(protocol: number, payload: Buffer, packetType = 0, arphrd = 1): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(packetType, 0);
  h.writeUInt16BE(arphrd, 2);
  h.writeUInt16BE(6, 4);
  mac('00:00:5e:00:53:09').copy(h, 6);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, payload]);
}

export function linuxSll2(protocol: number, payload: Buffer, ifIndex = 2, packetType = 0, arphrd = 1): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(ifIndex, 4);
  h.writeUInt16BE(arphrd, 8);
  h[10] = packetType;
  h[11] = 6;
  mac('00:00:5e:00:53:09').copy(h, 12);
  return Buffer.concat([h, payload]);
}

/** RFC 1071 one's-complement sum, for the IPv4 header checksum. */
function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  protocol: number;
  id?: number;
  ttl?: number;
  /** Fragment offset in bytes (multiple of 8). */
  fragmentOffset?: number;
  moreFragments?: boolean;
  /** Extra option bytes (padded to 4). */
  options?: Buffer;
}

export function ipv4(o: Ipv4Options, payload: Buffer): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const optLen = (opt.length + 3) & ~3;
  const h = Buffer.alloc(20 + optLen);
  h[0] = 0x40 | ((20 + optLen) / 4);
  h.writeUInt16BE(h.length + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.fragmentOffset ?? 0) / 8) | (o.moreFragments ? 0x2000 : 0), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.protocol;
  ipv4Address(o.src).copy(h, 12);
  ipv4Address(o.dst).copy(h, 16);
  opt.copy(h, 20);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

export function ipv6(o: { src: string; dst: string; nextHeader: number; hopLimit?: number }, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = o.nextHeader;
  h[7] = o.hopLimit ?? 64;
  ipv6Address(o.src).copy(h, 8);
  ipv6Address(o.dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

/** IPv6 fragment extension header (RFC 8200 §4.5) followed by the fragment data. */
export function ipv6Fragment(nextHeader: number, offset: number, more: boolean, id: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = nextHeader;
  h.writeUInt16BE((offset & 0xfff8) | (more ? 1 : 0), 2);
  h.writeUInt32BE(id >>> 0, 4);
  return Buffer.concat([h, data]);
}

/** An IPv6 extension header of the generic (next header, length) form with padding options. */
export function ipv6Options(nextHeader: number, units = 0): Buffer {
  const h = Buffer.alloc((units + 1) * 8);
  h[0] = nextHeader;
  h[1] = units;
  h[2] = 1; // PadN option covering the rest
  h[3] = h.length - 4;
  return h;
}

export function udp(srcPort: number, dstPort: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]); // checksum 0: "not computed" (IPv4)
}

export const TCP = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16 } as const;

export function tcp(
  o: { srcPort: number; dstPort: number; seq: number; ack?: number; flags: number; window?: number },
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(o.srcPort, 0);
  h.writeUInt16BE(o.dstPort, 2);
  h.writeUInt32BE(o.seq >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = o.flags;
  h.writeUInt16BE(o.window ?? 65535, 14);
  return Buffer.concat([h, payload]);
}

export function sctp(o: { srcPort: number; dstPort: number; verificationTag: number }, chunks: Buffer[]): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.srcPort, 0);
  h.writeUInt16BE(o.dstPort, 2);
  h.writeUInt32BE(o.verificationTag >>> 0, 4);
  return Buffer.concat([h, ...chunks]);
}

/** A DATA chunk, padded to 4 bytes. Flags: B = 2, E = 1, U = 4. */
export function sctpData(
  o: { tsn: number; streamId: number; ssn: number; ppid: number; begin?: boolean; end?: boolean; unordered?: boolean },
  data: Buffer,
): Buffer {
  const len = 16 + data.length;
  const c = Buffer.alloc((len + 3) & ~3);
  c[0] = 0;
  c[1] = ((o.begin ?? true) ? 2 : 0) | ((o.end ?? true) ? 1 : 0) | (o.unordered ? 4 : 0);
  c.writeUInt16BE(len, 2);
  c.writeUInt32BE(o.tsn >>> 0, 4);
  c.writeUInt16BE(o.streamId, 8);
  c.writeUInt16BE(o.ssn, 10);
  c.writeUInt32BE(o.ppid >>> 0, 12);
  data.copy(c, 16);
  return c;
}

/** A SACK chunk with no gap blocks (a control chunk to bundle). */
export function sctpSack(cumulativeTsn: number): Buffer {
  const c = Buffer.alloc(16);
  c[0] = 3;
  c.writeUInt16BE(16, 2);
  c.writeUInt32BE(cumulativeTsn >>> 0, 4);
  c.writeUInt32BE(65536, 8);
  return c;
}

export function gre(o: { protocol: number; key?: number; sequence?: number; checksum?: boolean }, payload: Buffer): Buffer {
  let flags = 0;
  const extra: Buffer[] = [];
  if (o.checksum) {
    flags |= 0x8000;
    extra.push(Buffer.alloc(4));
  }
  if (o.key !== undefined) {
    flags |= 0x2000;
    const k = Buffer.alloc(4);
    k.writeUInt32BE(o.key >>> 0, 0);
    extra.push(k);
  }
  if (o.sequence !== undefined) {
    flags |= 0x1000;
    const s = Buffer.alloc(4);
    s.writeUInt32BE(o.sequence >>> 0, 0);
    extra.push(s);
  }
  const h = Buffer.alloc(4);
  h.writeUInt16BE(flags, 0);
  h.writeUInt16BE(o.protocol, 2);
  return Buffer.concat([h, ...extra, payload]);
}

/** ERSPAN type II header (version 1) + mirrored Ethernet frame. */
export function erspan2(session: number, vlan: number, frame: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE((1 << 12) | (vlan & 0x0fff), 0);
  h.writeUInt16BE(session & 0x03ff, 2);
  return Buffer.concat([h, frame]);
}

/** ERSPAN type III header (version 2); frameType 0 = Ethernet, 2 = IP; optional platform subheader. */
export function erspan3(session: number, frameType: number, payload: Buffer, subheader = false): Buffer {
  const h = Buffer.alloc(12 + (subheader ? 8 : 0));
  h.writeUInt16BE(2 << 12, 0);
  h.writeUInt16BE(session & 0x03ff, 2);
  h.writeUInt32BE(0x12345678, 4); // timestamp
  h[10] = (frameType & 0x1f) << 2;
  h[11] = subheader ? 1 : 0;
  return Buffer.concat([h, payload]);
}
