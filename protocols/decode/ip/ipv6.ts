// IPv6 header (RFC 8200) and its extension-header chain, up to the upper-layer
// protocol or a fragment header (whose payload needs reassembly first).
import { DecodeError } from '../layer.ts';
import { IPPROTO, IPV6_GENERIC_EXTENSION_HEADERS } from './ipProtocols.ts';

interface Ipv6Fragment {
  id: number;
  /** Offset of this fragment's data in the reassembled fragmentable part, bytes. */
  offset: number;
  more: boolean;
  /** Next header of the fragmentable part (meaningful in the offset-0 fragment). */
  nextHeader: number;
}

interface Ipv6Header {
  version: 6;
  /** Address bytes: a 16-byte view into the frame (format with formatIpv6). */
  src: Buffer;
  dst: Buffer;
  hopLimit: number;
  /** Upper-layer protocol, or IPPROTO.fragment when `fragment` is set. */
  protocol: number;
  payloadOffset: number;
  payloadEnd: number;
  fragment: Ipv6Fragment | undefined;
}

interface Ipv6Chain {
  protocol: number;
  offset: number;
  fragment: Ipv6Fragment | undefined;
}

const MAX_EXTENSION_HEADERS = 16;

export function decodeIpv6(buf: Buffer, off: number, end = buf.length): Ipv6Header {
  if (off + 40 > end) throw new DecodeError('ip', 'truncated', `ipv6 header: ${end - off} bytes`);
  const v = buf[off]! >> 4;
  if (v !== 6) throw new DecodeError('ip', 'malformed', `ipv6 version ${v}`);
  const payloadLength = buf.readUInt16BE(off + 4);
  // 0 means a jumbogram (RFC 2675) or a TSO-offloaded capture: trust the captured length.
  const payloadEnd = payloadLength === 0 ? end : off + 40 + payloadLength;
  if (payloadEnd > end) {
    throw new DecodeError('ip', 'truncated', `ipv6 payload length ${payloadLength}, ${end - off - 40} bytes captured`);
  }
  const chain = walkIpv6Extensions(buf, off + 40, payloadEnd, buf[off + 6]!);
  return {
    version: 6,
    src: buf.subarray(off + 8, off + 24),
    dst: buf.subarray(off + 24, off + 40),
    hopLimit: buf[off + 7]!,
    protocol: chain.protocol,
    payloadOffset: chain.offset,
    payloadEnd,
    fragment: chain.fragment,
  };
}

/**
 * Follows extension headers from `nextHeader` at `off`. Stops at the first
 * upper-layer protocol, or at a fragment header of a real fragment (the rest
 * of the chain lies in the reassembled payload). Atomic fragments (offset 0,
 * no more fragments; RFC 6946) are stepped over.
 */
export function walkIpv6Extensions(buf: Buffer, off: number, end: number, nextHeader: number): Ipv6Chain {
  let nh = nextHeader;
  let o = off;
  for (let n = 0; n < MAX_EXTENSION_HEADERS; n++) {
    if (IPV6_GENERIC_EXTENSION_HEADERS.has(nh)) {
      if (o + 8 > end) throw new DecodeError('ip', 'truncated', `ipv6 extension header ${nh}`);
      const len = (buf[o + 1]! + 1) * 8;
      if (o + len > end) throw new DecodeError('ip', 'truncated', `ipv6 extension header ${nh} length ${len}`);
      nh = buf[o]!;
      o += len;
    } else if (nh === IPPROTO.ah) {
      if (o + 8 > end) throw new DecodeError('ip', 'truncated', 'ipv6 authentication header');
      const len = (buf[o + 1]! + 2) * 4; // RFC 4302: length in 4-octet units minus 2
      if (o + len > end) throw new DecodeError('ip', 'truncated', `ipv6 authentication header length ${len}`);
      nh = buf[o]!;
      o += len;
    } else if (nh === IPPROTO.fragment) {
      if (o + 8 > end) throw new DecodeError('ip', 'truncated', 'ipv6 fragment header');
      const w = buf.readUInt16BE(o + 2);
      const fragment: Ipv6Fragment = {
        nextHeader: buf[o]!,
        offset: w & 0xfff8,
        more: (w & 1) !== 0,
        id: buf.readUInt32BE(o + 4),
      };
      if (fragment.offset === 0 && !fragment.more) {
        nh = fragment.nextHeader;
        o += 8;
        continue;
      }
      return { protocol: IPPROTO.fragment, offset: o + 8, fragment };
    } else {
      return { protocol: nh, offset: o, fragment: undefined };
    }
  }
  throw new DecodeError('ip', 'malformed', `more than ${MAX_EXTENSION_HEADERS} ipv6 extension headers`);
}
