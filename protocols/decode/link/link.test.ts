import { describe, it, expect, afterAll } from 'vitest';
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { haveTshark, noTsharkReason, tshark } from '../../../test/support/captures.ts';
import { DecodeError } from '../layer.ts';
import { erspan2, erspan3, ethernet, gre, ipv4, linuxSll, linuxSll2, udp } from '../../../test/support/packetBuilder.ts';
import { writePcap } from '../pcap/writePcap.ts';
import { decodeEthernet } from './ethernet.ts';
import { ETHERTYPE, ETHERTYPE_LLC } from './etherTypes.ts';
import { decodeErspan } from './erspan.ts';
import { decodeGre } from './gre.ts';
import { decodeLink } from './linkLayer.ts';
import { LINKTYPE } from './linkTypes.ts';

const ip = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, udp(5060, 5061, Buffer.from('hi')));
const tmp = mkdtempSync(path.join(tmpdir(), 'link-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ethernet', () => {
  it('unwraps stacked 802.1ad + 802.1Q tags', () => {
    const f = ethernet(ETHERTYPE.ipv4, ip, { vlans: [{ tpid: 0x88a8, vid: 100 }, { vid: 42 }] });
    const r = decodeEthernet(f);
    expect(r).toEqual({ etherType: ETHERTYPE.ipv4, offset: 22, vlans: [100, 42] });
    expect(f.subarray(r.offset).equals(ip)).toBe(true);
  });

  it('marks 802.3 length frames as LLC, not IP', () => {
    const f = ethernet(0x0026, Buffer.alloc(38)); // STP-style length field
    expect(decodeEthernet(f).etherType).toBe(ETHERTYPE_LLC);
  });

  it('throws truncated on a cut tag', () => {
    const f = ethernet(ETHERTYPE.ipv4, ip, { vlans: [{ vid: 1 }] }).subarray(0, 16);
    expect(() => decodeEthernet(f)).toThrow(expect.objectContaining({ layer: 'link', reason: 'truncated' }));
  });
});

describe('decodeLink by link type', () => {
  it.each([
    ['SLL', LINKTYPE.linuxSll, linuxSll(ETHERTYPE.ipv4, ip), 16],
    ['SLL2', LINKTYPE.linuxSll2, linuxSll2(ETHERTYPE.ipv4, ip), 20],
    ['raw', LINKTYPE.raw, ip, 0],
    ['ipv4', LINKTYPE.ipv4, ip, 0],
    ['null (little-endian AF_INET)', LINKTYPE.null, Buffer.concat([Buffer.from([2, 0, 0, 0]), ip]), 4],
    ['null (big-endian AF_INET)', LINKTYPE.null, Buffer.concat([Buffer.from([0, 0, 0, 2]), ip]), 4],
    ['loop', LINKTYPE.loop, Buffer.concat([Buffer.from([0, 0, 0, 2]), ip]), 4],
  ])('%s', (_n, linkType, frame, offset) => {
    expect(decodeLink(linkType, frame)).toMatchObject({ etherType: ETHERTYPE.ipv4, offset });
  });

  it('null loopback with a BSD AF_INET6 is IPv6', () => {
    expect(decodeLink(LINKTYPE.null, Buffer.from([30, 0, 0, 0, 0x60])).etherType).toBe(ETHERTYPE.ipv6);
  });

  it('refuses an unknown link type as unsupported', () => {
    expect(() => decodeLink(9999, ip)).toThrow(expect.objectContaining({ layer: 'link', reason: 'unsupported' }));
  });
});

describe('GRE and ERSPAN', () => {
  it('GRE with checksum, key and sequence number', () => {
    const g = gre({ protocol: ETHERTYPE.ipv4, checksum: true, key: 7, sequence: 9 }, ip);
    expect(decodeGre(g, 0)).toEqual({ protocol: ETHERTYPE.ipv4, offset: 16, key: 7, sequence: 9 });
  });

  it('refuses GRE version 1 (PPTP) as unsupported', () => {
    expect(() => decodeGre(Buffer.from([0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0]), 0)).toThrow(
      expect.objectContaining({ layer: 'gre', reason: 'unsupported' }),
    );
  });

  it('ERSPAN type I (no sequence, no header), II and III', () => {
    const inner = ethernet(ETHERTYPE.ipv4, ip);
    const t1 = gre({ protocol: ETHERTYPE.erspan2 }, inner);
    expect(decodeErspan(t1, decodeGre(t1, 0))).toMatchObject({ payload: 'ethernet', offset: 4, type: 1 });
    const t2 = gre({ protocol: ETHERTYPE.erspan2, sequence: 1 }, erspan2(33, 5, inner));
    expect(decodeErspan(t2, decodeGre(t2, 0))).toEqual({ payload: 'ethernet', offset: 16, type: 2, session: 33 });
    const t3 = gre({ protocol: ETHERTYPE.erspan3, sequence: 1 }, erspan3(44, 0, inner, true));
    expect(decodeErspan(t3, decodeGre(t3, 0))).toEqual({ payload: 'ethernet', offset: 28, type: 3, session: 44 });
    const t3ip = gre({ protocol: ETHERTYPE.erspan3, sequence: 1 }, erspan3(45, 2, ip));
    expect(decodeErspan(t3ip, decodeGre(t3ip, 0))).toEqual({ payload: 'ip', offset: 20, type: 3, session: 45 });
  });

  it('throws DecodeError on a cut ERSPAN header', () => {
    const t2 = gre({ protocol: ETHERTYPE.erspan2, sequence: 1 }, erspan2(33, 5, Buffer.alloc(0))).subarray(0, 12);
    expect(() => decodeErspan(t2, decodeGre(t2, 0))).toThrow(DecodeError);
  });
});

// The hand-built frames above are only as good as the builder: tshark checks that it builds what it claims.
describe.skipIf(!haveTshark)(`hand-built frames as tshark reads them ${haveTshark ? '' : noTsharkReason}`, () => {
  it('VLAN stack, SLL2, GRE/TEB and ERSPAN II/III all lead to the same UDP datagram', async () => {
    const outer = (payload: Buffer) => ethernet(ETHERTYPE.ipv4, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 47 }, payload));
    const inner = ethernet(ETHERTYPE.ipv4, ip);
    const cases: [number, Buffer][] = [
      [LINKTYPE.ethernet, ethernet(ETHERTYPE.ipv4, ip, { vlans: [{ tpid: 0x88a8, vid: 100 }, { vid: 42 }] })],
      [LINKTYPE.linuxSll2, linuxSll2(ETHERTYPE.ipv4, ip)],
      [LINKTYPE.ethernet, outer(gre({ protocol: ETHERTYPE.transparentEthernetBridging, key: 3 }, inner))],
      [LINKTYPE.ethernet, outer(gre({ protocol: ETHERTYPE.erspan2, sequence: 1 }, erspan2(33, 5, inner)))],
      [LINKTYPE.ethernet, outer(gre({ protocol: ETHERTYPE.erspan3, sequence: 2 }, erspan3(44, 0, inner, true)))],
    ];
    for (const [i, [linkType, frame]] of cases.entries()) {
      const file = path.join(tmp, `case-${i}.pcap`);
      await writePcap(file, [{ timeNs: 1n, data: frame }], { linkType });
      const rows = tshark(['-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'data.data']);
      // ip.src lists every IP layer: the innermost is ours.
      const [src, sp, dp, data] = rows[0]!.split('\t');
      expect(src!.split(',').at(-1)).toBe('10.0.0.1');
      expect([sp, dp, data]).toEqual(['5060', '5061', Buffer.from('hi').toString('hex')]);
      const link = decodeLink(linkType, frame);
      expect(link.etherType).toBe(ETHERTYPE.ipv4);
    }
  });
});
