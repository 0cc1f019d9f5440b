import { describe, it, expect } from 'vitest';
import { DecodeError } from '../layer.ts';
import { ipv4, ipv6, ipv6Address, ipv6Fragment, ipv6Options, udp } from '../../../test/support/packetBuilder.ts';
import { FragmentReassembler } from './fragmentReassembler.ts';
import { formatIpv4, formatIpv6 } from './ipAddress.ts';
import { IPPROTO } from './ipProtocols.ts';
import { decodeIpv4 } from './ipv4.ts';
import { decodeIpv6 } from './ipv6.ts';

describe('IPv4 header', () => {
  it('skips options and stops at the total length (ignoring link padding)', () => {
    const p = ipv4({ src: '10.1.2.3', dst: '192.0.2.200', protocol: 17, id: 0xbeef, options: Buffer.from([1, 1, 1, 1]) }, Buffer.from('payload'));
    const padded = Buffer.concat([p, Buffer.alloc(10)]);
    const h = decodeIpv4(padded, 0);
    expect(h).toMatchObject({ protocol: 17, id: 0xbeef, payloadOffset: 24, payloadEnd: 31, moreFragments: false, fragmentOffset: 0 });
    expect(formatIpv4(h.src)).toBe('10.1.2.3');
    expect(formatIpv4(h.dst)).toBe('192.0.2.200');
  });

  it('reads fragment fields', () => {
    const h = decodeIpv4(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 17, fragmentOffset: 1480, moreFragments: true }, Buffer.alloc(8)), 0);
    expect([h.fragmentOffset, h.moreFragments]).toEqual([1480, true]);
  });

  it.each([
    ['version 6', (b: Buffer) => (b[0] = 0x65), 'malformed'],
    ['IHL 4', (b: Buffer) => (b[0] = 0x44), 'malformed'],
    ['total length beyond the capture', (b: Buffer) => b.writeUInt16BE(500, 2), 'truncated'],
    ['total length below the header', (b: Buffer) => b.writeUInt16BE(12, 2), 'malformed'],
  ])('refuses %s', (_n, mutate, reason) => {
    const b = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 17 }, Buffer.alloc(8));
    mutate(b);
    expect(() => decodeIpv4(b, 0)).toThrow(expect.objectContaining({ layer: 'ip', reason }));
  });

  it('trusts the captured length when total length is 0 (TSO)', () => {
    const b = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6 }, Buffer.alloc(3000));
    b.writeUInt16BE(0, 2);
    expect(decodeIpv4(b, 0).payloadEnd).toBe(3020);
  });
});

describe('IPv6 header and extension headers', () => {
  it('walks hop-by-hop and destination options to UDP', () => {
    const payload = Buffer.concat([ipv6Options(IPPROTO.destinationOptions), ipv6Options(IPPROTO.udp, 1), udp(1, 2, Buffer.from('x'))]);
    const h = decodeIpv6(ipv6({ src: '2001:db8::1', dst: 'fe80::2', nextHeader: IPPROTO.hopByHop }, payload), 0);
    expect(h).toMatchObject({ protocol: IPPROTO.udp, payloadOffset: 40 + 8 + 16, fragment: undefined });
  });

  it('stops at a fragment header of a real fragment', () => {
    const p = ipv6(
      { src: '2001:db8::1', dst: '2001:db8::2', nextHeader: IPPROTO.fragment },
      ipv6Fragment(IPPROTO.udp, 1232, true, 0xabcdef01, Buffer.alloc(16)),
    );
    expect(decodeIpv6(p, 0)).toMatchObject({
      protocol: IPPROTO.fragment,
      payloadOffset: 48,
      fragment: { offset: 1232, more: true, id: 0xabcdef01, nextHeader: IPPROTO.udp },
    });
  });

  it('steps over an atomic fragment (RFC 6946)', () => {
    const p = ipv6({ src: '::1', dst: '::1', nextHeader: IPPROTO.fragment }, ipv6Fragment(IPPROTO.udp, 0, false, 5, udp(1, 2, Buffer.alloc(0))));
    expect(decodeIpv6(p, 0)).toMatchObject({ protocol: IPPROTO.udp, payloadOffset: 48, fragment: undefined });
  });

  it('throws truncated when an extension header overruns the payload', () => {
    const p = ipv6({ src: '::1', dst: '::1', nextHeader: IPPROTO.hopByHop }, Buffer.from([17, 5, 0, 0, 0, 0, 0, 0]));
    expect(() => decodeIpv6(p, 0)).toThrow(expect.objectContaining({ layer: 'ip', reason: 'truncated' }));
  });

  // RFC 5952 §4 recommendations (and tshark's rendering).
  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longer run wins
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['0:0:0:0:0:ffff:c000:280', '::ffff:192.0.2.128'],
    ['2001:DB8:aaaa:bbbb:cccc:dddd:eeee:AAAA', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa'],
  ])('formats %s as %s', (text, expected) => {
    expect(formatIpv6(ipv6Address(text), 0)).toBe(expected);
  });
});

describe('FragmentReassembler', () => {
  const whole = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
  const piece = (o: number, n: number) => whole.subarray(o, o + n);

  it('reassembles fragments arriving out of order', () => {
    const r = new FragmentReassembler();
    expect(r.add('k', 0, 32, piece(32, 8), false)).toBeUndefined();
    expect(r.add('k', 1, 0, piece(0, 16), true)).toBeUndefined();
    const done = r.add('k', 2, 16, piece(16, 16), true);
    expect(done?.payload.equals(whole)).toBe(true);
    expect(r.size).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it('keeps the first copy of overlapping bytes', () => {
    const r = new FragmentReassembler();
    r.add('k', 0, 0, piece(0, 24), true);
    r.add('k', 0, 16, Buffer.alloc(16, 0xee), true); // rewrites 16..23 and adds 24..31
    const done = r.add('k', 0, 32, piece(32, 8), false)!;
    expect([...done.payload.subarray(0, 24)]).toEqual([...piece(0, 24)]);
    expect([...done.payload.subarray(24, 32)]).toEqual(new Array(8).fill(0xee));
    expect(r.stats.overlaps).toBe(1);
  });

  it('returns the meta of the offset-0 fragment', () => {
    const r = new FragmentReassembler<number>();
    r.add('k', 0, 8, piece(8, 8), false, 99);
    expect(r.add('k', 0, 0, piece(0, 8), true, 17)?.meta).toBe(17);
  });

  it('forgets datagrams older than the timeout', () => {
    const r = new FragmentReassembler({ timeoutMs: 1000 });
    r.add('old', 0, 0, piece(0, 8), true);
    r.add('new', 900, 0, piece(0, 8), true);
    r.add('other', 1500, 0, piece(0, 8), true);
    expect(r.stats.timedOut).toBe(1);
    // The late tail of 'old' starts a fresh, incomplete datagram.
    expect(r.add('old', 1600, 8, piece(8, 8), false)).toBeUndefined();
  });

  it('stays under its memory bound by evicting the oldest', () => {
    const r = new FragmentReassembler({ maxBytes: 100 });
    for (let i = 0; i < 20; i++) r.add(`d${i}`, i, 0, piece(0, 16), true);
    expect(r.bufferedBytes).toBeLessThanOrEqual(100);
    expect(r.stats.evicted).toBe(14);
  });

  it('refuses fragments that disagree on the end, or pass 64 KiB', () => {
    const r = new FragmentReassembler();
    expect(r.add('k', 0, 8, piece(8, 16), false)).toBeUndefined(); // ends at 24
    expect(() => r.add('k', 0, 16, piece(16, 16), false)).toThrow(DecodeError); // claims 32
    expect(r.add('l', 0, 8, piece(8, 8), false)).toBeUndefined(); // ends at 16
    expect(() => r.add('l', 0, 0, piece(0, 24), true)).toThrow(/past the datagram end/);
    expect(() => r.add('j', 0, 65528, piece(0, 16), false)).toThrow(expect.objectContaining({ reason: 'malformed' }));
    expect(r.size).toBe(0);
  });
});
