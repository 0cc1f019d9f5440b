import { describe, it, expect, afterAll } from 'vitest';
import { rmSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { capture, capturesDir, haveCaptures, haveTshark, noCapturesReason, noTsharkReason, tshark } from '../../test/support/captures.ts';
import { flipBit } from '../../test/support/fuzz.ts';
import { FrameDissector, type TransportPayload } from './frameDissector.ts';
import { DecodeError } from './layer.ts';
import type { CapturedFrame } from './pcap/capturedFrame.ts';
import { readCapture } from './pcap/readCapture.ts';
import { writePcap } from './pcap/writePcap.ts';
import {
  erspan2,
  erspan3,
  ethernet,
  gre,
  ipv4,
  ipv6,
  ipv6Fragment,
  linuxSll2,
  sctp,
  sctpData,
  sctpSack,
  TCP,
  tcp,
  udp,
} from '../../test/support/packetBuilder.ts';
import { ETHERTYPE } from './link/etherTypes.ts';
import { LINKTYPE } from './link/linkTypes.ts';
import { IPPROTO } from './ip/ipProtocols.ts';
import { FIXTURE_FILES, fixtureLog, fixturePath, tsharkNote } from '../../test/support/fixtures.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'dissector-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function dissectFile(file: string): Promise<{ payloads: TransportPayload[]; errors: string[]; d: FrameDissector }> {
  const d = new FrameDissector();
  const payloads: TransportPayload[] = [];
  const errors: string[] = [];
  for await (const f of readCapture(file)) {
    try {
      payloads.push(...d.dissect(f));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      errors.push(`${f.index} ${e.message}`);
    }
  }
  payloads.push(...d.flush());
  return { payloads, errors, d };
}

function frames(linkType: number, datas: Buffer[]): CapturedFrame[] {
  return datas.map((data, i) => ({ index: i + 1, timeNs: BigInt(i) * 1_000_000n, linkType, interfaceId: 0, data, origLength: data.length }));
}

function dissectAll(fs: CapturedFrame[], d = new FrameDissector()): TransportPayload[] {
  return [...fs.flatMap((f) => d.dissect(f)), ...d.flush()];
}

const sipText = Buffer.from('MESSAGE sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n' + 'x'.repeat(200));

describe('hand-built frames through the whole stack', () => {
  it('reassembles IPv4 fragments delivered out of order, inside a VLAN', () => {
    const dgram = udp(5060, 5060, sipText);
    const frag = (o: number, n: number, more: boolean) =>
      ethernet(
        ETHERTYPE.ipv4,
        ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO.udp, id: 77, fragmentOffset: o, moreFragments: more }, dgram.subarray(o, o + n)),
        {
          vlans: [{ vid: 10 }],
        },
      );
    const fs = frames(LINKTYPE.ethernet, [frag(200, dgram.length - 200, false), frag(0, 96, true), frag(96, 104, true)]);
    const out = dissectAll(fs);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      frame: 3,
      transport: 'udp',
      src: '10.0.0.1',
      dst: '10.0.0.2',
      srcPort: 5060,
      dstPort: 5060,
      flow: 'udp:10.0.0.1:5060>10.0.0.2:5060',
    });
    expect(out[0]!.payload.equals(sipText)).toBe(true);
  });

  it('reassembles IPv6 fragments (fragment header) over Linux SLL2', () => {
    const dgram = udp(5062, 5060, sipText);
    const frag = (o: number, n: number, more: boolean) =>
      linuxSll2(
        ETHERTYPE.ipv6,
        ipv6({ src: '2001:db8::a', dst: '2001:db8::b', nextHeader: IPPROTO.fragment }, ipv6Fragment(IPPROTO.udp, o, more, 0x1234, dgram.subarray(o, o + n))),
      );
    const out = dissectAll(frames(LINKTYPE.linuxSll2, [frag(152, dgram.length - 152, false), frag(0, 152, true)]));
    expect(out.map((p) => [p.frame, p.src, p.dst, p.flow])).toEqual([[2, '2001:db8::a', '2001:db8::b', 'udp:[2001:db8::a]:5062>[2001:db8::b]:5060']]);
    expect(out[0]!.payload.equals(sipText)).toBe(true);
  });

  it('unwraps GRE/TEB and ERSPAN II/III mirrors of a TCP stream', () => {
    const seg = (seq: number, text: string, flags: number = TCP.ack | TCP.psh) =>
      ethernet(
        ETHERTYPE.ipv4,
        ipv4({ src: '10.1.1.1', dst: '10.2.2.2', protocol: IPPROTO.tcp }, tcp({ srcPort: 40000, dstPort: 5060, seq, flags }, Buffer.from(text))),
      );
    const wrap = (inner: Buffer, kind: number) => {
      const g =
        kind === 0
          ? gre({ protocol: ETHERTYPE.transparentEthernetBridging }, inner)
          : kind === 1
            ? gre({ protocol: ETHERTYPE.erspan2, sequence: 5 }, erspan2(1, 0, inner))
            : gre({ protocol: ETHERTYPE.erspan3, sequence: 6 }, erspan3(2, 0, inner));
      return ethernet(ETHERTYPE.ipv4, ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: IPPROTO.gre }, g));
    };
    const fs = frames(LINKTYPE.ethernet, [wrap(seg(99, '', TCP.syn), 0), wrap(seg(107, 'sip:b'), 1), wrap(seg(100, 'INVITE '), 2)]);
    const d = new FrameDissector();
    const out = dissectAll(fs, d);
    expect(out.map((p) => [p.frame, p.flow, p.payload.toString()])).toEqual([
      [3, 'tcp:10.1.1.1:40000>10.2.2.2:5060', 'INVITE '],
      [2, 'tcp:10.1.1.1:40000>10.2.2.2:5060', 'sip:b'],
    ]);
    expect(d.stats.tunnels).toBe(3);
  });

  it('returns each DATA chunk of a bundle, and joins a fragmented message', () => {
    const s = (chunks: Buffer[]) =>
      ethernet(
        ETHERTYPE.ipv4,
        ipv4({ src: '10.9.0.1', dst: '10.9.0.2', protocol: IPPROTO.sctp }, sctp({ srcPort: 2905, dstPort: 2905, verificationTag: 1 }, chunks)),
      );
    const fs = frames(LINKTYPE.ethernet, [
      s([
        sctpSack(1),
        sctpData({ tsn: 10, streamId: 1, ssn: 1, ppid: 3 }, Buffer.from('m1')),
        sctpData({ tsn: 11, streamId: 2, ssn: 1, ppid: 3 }, Buffer.from('m2')),
      ]),
      s([sctpData({ tsn: 13, streamId: 1, ssn: 2, ppid: 3, begin: false }, Buffer.from('-tail'))]),
      s([sctpData({ tsn: 12, streamId: 1, ssn: 2, ppid: 3, end: false }, Buffer.from('head'))]),
    ]);
    const d = new FrameDissector();
    const out = dissectAll(fs, d);
    expect(out.map((p) => [p.frame, p.payload.toString(), p.sctp])).toEqual([
      [1, 'm1', { ppid: 3, streamId: 1, ssn: 1, tsn: 10 }],
      [1, 'm2', { ppid: 3, streamId: 2, ssn: 1, tsn: 11 }],
      [3, 'head-tail', { ppid: 3, streamId: 1, ssn: 2, tsn: 12 }],
    ]);
    expect([d.stats.sctpDataChunks, d.stats.sctpControlChunks]).toEqual([4, 1]);
  });

  it('counts non-IP frames, and a bad frame does not poison the next', () => {
    const good = ethernet(ETHERTYPE.ipv4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO.udp }, udp(1, 2, Buffer.from('ok'))));
    const arp = ethernet(ETHERTYPE.arp, Buffer.alloc(28));
    const bad = good.subarray(0, 30);
    const d = new FrameDissector();
    const [f1, f2, f3] = frames(LINKTYPE.ethernet, [arp, bad, good]);
    expect(d.dissect(f1!)).toEqual([]);
    expect(() => d.dissect(f2!)).toThrow(expect.objectContaining({ layer: 'ip', reason: 'truncated' }));
    expect(d.dissect(f3!).map((p) => p.payload.toString())).toEqual(['ok']);
    expect(d.stats.nonIp).toBe(1);
  });

  it.skipIf(!haveTshark)('tshark reassembles the same hand-built IPv4 fragments into the same UDP datagram', async () => {
    const dgram = udp(5060, 5060, sipText);
    const frag = (o: number, n: number, more: boolean) =>
      ethernet(
        ETHERTYPE.ipv4,
        ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO.udp, id: 77, fragmentOffset: o, moreFragments: more }, dgram.subarray(o, o + n)),
      );
    const fs = frames(LINKTYPE.ethernet, [frag(200, dgram.length - 200, false), frag(0, 96, true), frag(96, 104, true)]);
    const file = path.join(tmp, 'frags.pcap');
    await writePcap(file, fs, { linkType: LINKTYPE.ethernet });
    const rows = tshark(['-r', file, '-Y', 'udp', '-T', 'fields', '-e', 'frame.number', '-e', 'udp.length']);
    const ours = dissectAll(fs);
    expect(rows).toEqual(ours.map((p) => `${p.frame}\t${p.payload.length + 8}`));
  });
});

// ---- The shared captures, with tshark as the oracle ----

const captureFiles = haveCaptures ? ['sip', 'ss7', 'bench'].flatMap((d) => readdirSync(path.join(capturesDir, d)).map((f) => `${d}/${f}`)) : [];
const skipReason = !haveCaptures ? noCapturesReason : !haveTshark ? noTsharkReason : '';

/** UDP datagrams, SCTP messages and TCP segments of a file, ours and tshark's. */
async function transportsMatchTshark(f: string): Promise<void> {
  const { payloads, errors, d } = await dissectFile(f);
  expect(errors).toEqual([]);

  // UDP: one payload per datagram, same frame, ports and length (ICMP-quoted headers are not datagrams).
  const udpTshark = tshark([
    '-r',
    f,
    '-Y',
    'udp && !icmp && !icmpv6',
    '-T',
    'fields',
    '-e',
    'frame.number',
    '-e',
    'udp.srcport',
    '-e',
    'udp.dstport',
    '-e',
    'udp.length',
  ]);
  const udpOurs = payloads.filter((p) => p.transport === 'udp').map((p) => `${p.frame}\t${p.srcPort}\t${p.dstPort}\t${p.payload.length + 8}`);
  expect(udpOurs).toEqual(udpTshark);

  // SCTP: DATA chunk count, and one message per B..E run with the summed chunk lengths.
  const rows = tshark([
    '-r',
    f,
    '-Y',
    'sctp',
    '-T',
    'fields',
    '-E',
    'occurrence=a',
    '-e',
    'frame.number',
    '-e',
    'sctp.chunk_type',
    '-e',
    'sctp.chunk_length',
    '-e',
    'sctp.data_b_bit',
    '-e',
    'sctp.data_e_bit',
    '-e',
    'sctp.data_payload_proto_id',
  ]);
  let dataChunks = 0;
  const sctpTshark: string[] = [];
  let partial = 0;
  for (const row of rows) {
    const [n, types, lengths, bs, es, ppids] = row.split('\t');
    const lens = lengths!.split(',').map(Number);
    const data = types!.split(',').flatMap((t, i) => (t === '0' ? [lens[i]! - 16] : []));
    const b = bs!.split(','),
      e = es!.split(','),
      pp = ppids!.split(',');
    data.forEach((len, i) => {
      dataChunks++;
      partial = b[i] === '1' ? len : partial + len; // fragments arrive in order in these files
      if (e[i] === '1') sctpTshark.push(`${n}\t${pp[i]}\t${partial}`);
    });
  }
  expect(d.stats.sctpDataChunks).toBe(dataChunks);
  expect(payloads.filter((p) => p.transport === 'sctp').map((p) => `${p.frame}\t${p.sctp!.ppid}\t${p.payload.length}`)).toEqual(sctpTshark);

  // TCP: every segment seen (the byte streams are compared separately below).
  const tcpCount = tshark(['-r', f, '-Y', 'tcp && !icmp', '-T', 'fields', '-e', 'frame.number']).length;
  expect(d.stats.tcpSegments).toBe(tcpCount);
}

describe.skipIf(!haveCaptures || !haveTshark)(`shared captures ${skipReason}`, () => {
  // tshark on the largest capture alone takes ~15 s on a quiet 2-core machine, several times that beside the integration tests.
  it.each(captureFiles)('%s: UDP datagrams, SCTP messages and TCP segments agree with tshark', (file) => transportsMatchTshark(capture(file)), 180_000);

  const tcpFiles = ['sip/register-tcp-retrans-sll.pcap', 'sip/sip-tcp.pcap', 'sip/sip-websocket.pcap', 'sip/call-with-rtp.pcap'];
  it.each(tcpFiles)('%s: each TCP direction carries the bytes of tshark -z follow,tcp,raw', async (file) => {
    const f = capture(file);
    const { payloads } = await dissectFile(f);
    const ours = new Map<string, string>();
    for (const p of payloads) if (p.transport === 'tcp') ours.set(p.flow, (ours.get(p.flow) ?? '') + p.payload.toString('hex'));
    const streams = [...new Set(tshark(['-r', f, '-Y', 'tcp', '-T', 'fields', '-e', 'tcp.stream']))].map(Number);
    const out = tshark(['-r', f, '-q', ...streams.flatMap((s) => ['-z', `follow,tcp,raw,${s}`])]);
    const theirs = new Map<string, string>();
    let nodes: string[] = [];
    for (const line of out) {
      const m = /^Node ([01]): (.*)$/.exec(line);
      if (m) {
        nodes[Number(m[1])] = m[2]!;
        continue;
      }
      if (line.startsWith('=') || line.startsWith('Follow:') || line.startsWith('Filter:')) {
        if (line.startsWith('Filter:')) nodes = [];
        continue;
      }
      // Unindented lines were sent by node 0, tab-indented ones by node 1.
      const fromSecond = line.startsWith('\t');
      const flow = fromSecond ? `tcp:${nodes[1]}>${nodes[0]}` : `tcp:${nodes[0]}>${nodes[1]}`;
      theirs.set(flow, (theirs.get(flow) ?? '') + line.trim());
    }
    expect(theirs.size).toBeGreaterThan(0);
    expect(new Map([...ours].sort())).toEqual(new Map([...theirs].sort()));
  });

  it('IPv6: sip-ipv6-udp.pcap addresses and flows as tshark prints them', async () => {
    const f = capture('sip/sip-ipv6-udp.pcap');
    const { payloads } = await dissectFile(f);
    const rows = tshark([
      '-r',
      f,
      '-Y',
      'udp',
      '-T',
      'fields',
      '-e',
      'frame.number',
      '-e',
      'ipv6.src',
      '-e',
      'ipv6.dst',
      '-e',
      'udp.srcport',
      '-e',
      'udp.dstport',
    ]);
    expect(payloads.map((p) => `${p.frame}\t${p.src}\t${p.dst}\t${p.srcPort}\t${p.dstPort}`)).toEqual(rows);
    expect(payloads[0]!.flow).toMatch(/^udp:\[[0-9a-f:]+\]:\d+>\[[0-9a-f:]+\]:\d+$/);
    expect(payloads[0]!.payload.subarray(0, 6).toString()).toBe('INVITE');
  });

  it('SIP over SCTP: invite-sctp.pcap yields the INVITE reassembled from two DATA chunks', async () => {
    const { payloads } = await dissectFile(capture('sip/invite-sctp.pcap'));
    const rows = tshark([
      '-r',
      capture('sip/invite-sctp.pcap'),
      '-Y',
      'sip',
      '-T',
      'fields',
      '-e',
      'frame.number',
      '-e',
      'sip.Method',
      '-e',
      'sip.Status-Code',
    ]);
    // First word of a request is its method; of a response, the status code follows 'SIP/2.0'.
    const ours = payloads.map((p) => {
      const [first, second] = p.payload.toString('latin1').split(' ');
      return first === 'SIP/2.0' ? `${p.frame}\t\t${second}` : `${p.frame}\t${first}\t`;
    });
    expect(ours).toEqual(rows);
    expect(rows[0]).toBe('2\tINVITE\t');
  });
});

describe.skipIf(!haveTshark)(`generated fixtures${tsharkNote}`, () => {
  it.each(FIXTURE_FILES)('%s: UDP datagrams, SCTP messages and TCP segments agree with tshark', (file) => transportsMatchTshark(fixturePath(file)));
});

describe('generated fixtures, against the generator', () => {
  it.each(FIXTURE_FILES)('%s: one transport payload per generated frame, the bytes after its headers', async (file) => {
    const log = fixtureLog(file);
    const { payloads, errors, d } = await dissectFile(fixturePath(file));
    expect(errors).toEqual([]);
    expect(payloads).toHaveLength(log.length);
    payloads.forEach((p, i) => {
      const frame = log[i]!.frame;
      expect(p.frame).toBe(i + 1);
      if (log[i]!.meta.protocol === 'sip') {
        expect([p.transport, p.dstPort === 5060 || p.srcPort === 5060]).toEqual(['udp', true]);
        expect(p.payload.equals(frame.subarray(14 + 20 + 8)), `frame ${i + 1}`).toBe(true);
      } else {
        // Ethernet, IPv4, SCTP common header, DATA chunk header; the chunk length excludes padding.
        const chunkLength = frame.readUInt16BE(14 + 20 + 12 + 2);
        expect([p.transport, p.sctp!.ppid, p.srcPort, p.dstPort]).toEqual(['sctp', 3, 2905, 2905]);
        expect(p.payload.equals(frame.subarray(62, 62 + chunkLength - 16)), `frame ${i + 1}`).toBe(true);
      }
    });
    expect(d.stats.sctpDataChunks).toBe(log.filter((p) => p.meta.protocol !== 'sip').length);
  });
});

describe(`fuzz: mutated frames of the generated fixtures${haveCaptures ? ' and the shared captures' : ` (shared captures left out: ${noCapturesReason})`}`, () => {
  it('only ever throws DecodeError, and terminates', async () => {
    const shared = [
      'sip/invite-sctp.pcap',
      'sip/register-tcp-retrans-sll.pcap',
      'sip/sip-ipv6-udp.pcap',
      'ss7/map-sms-m2pa.pcap',
      'ss7/map-gprs-attach-m3ua.pcap',
      'sip/sip-tcp.pcap',
    ];
    const sources = [...FIXTURE_FILES.map(fixturePath), ...(haveCaptures ? shared.map(capture) : [])];
    const originals: CapturedFrame[] = [];
    for (const s of sources) for await (const f of readCapture(s)) originals.push({ ...f, data: Buffer.from(f.data) });
    let seed = 0x9e3779b9;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const d = new FrameDissector({ tcp: { maxBufferedBytes: 64 * 1024 } });
    const deadline = Date.now() + 3000;
    let runs = 0;
    let decodeErrors = 0;
    while (runs < 200_000 && Date.now() < deadline) {
      const o = originals[rand(originals.length)]!;
      let data = Buffer.from(o.data);
      const mode = rand(4);
      if (mode === 0) data = data.subarray(0, rand(data.length + 1));
      const flips = mode === 3 ? 0 : rand(6) + 1;
      for (let k = 0; k < flips && data.length > 0; k++) flipBit(data, rand(data.length), rand(8));
      if (mode === 3 && data.length > 20) data.writeUInt16BE(rand(65536), 14 + rand(data.length - 16)); // a random length field
      try {
        d.dissect({ ...o, index: runs + 1, data });
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        decodeErrors++;
      }
      runs++;
    }
    d.flush();
    expect(runs).toBeGreaterThan(1000);
    expect(decodeErrors).toBeGreaterThan(0);
  });
});

describe('SCTP retransmissions', () => {
  it('drops a retransmitted DATA chunk unless asked not to', () => {
    const s = (tsn: number) =>
      ethernet(
        ETHERTYPE.ipv4,
        ipv4(
          { src: '10.9.0.1', dst: '10.9.0.2', protocol: IPPROTO.sctp },
          sctp({ srcPort: 2905, dstPort: 2905, verificationTag: 1 }, [sctpData({ tsn, streamId: 1, ssn: tsn, ppid: 3 }, Buffer.from(`m${tsn}`))]),
        ),
      );
    const fs = frames(LINKTYPE.ethernet, [s(1), s(2), s(1), s(3)]);
    const d = new FrameDissector();
    expect(dissectAll(fs, d).map((p) => p.payload.toString())).toEqual(['m1', 'm2', 'm3']);
    expect(d.stats.sctpDuplicates).toBe(1);
    expect(dissectAll(fs, new FrameDissector({ sctpDropDuplicates: false }))).toHaveLength(4);
  });
});

describe('ERSPAN III with a bare IP payload', () => {
  it('unwraps ERSPAN III carrying a bare IP packet (frame type 2)', () => {
    const inner = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO.udp }, udp(5060, 5060, Buffer.from('x')));
    const outer = ethernet(
      ETHERTYPE.ipv4,
      ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: IPPROTO.gre }, gre({ protocol: ETHERTYPE.erspan3, sequence: 1 }, erspan3(7, 2, inner))),
    );
    expect(dissectAll(frames(LINKTYPE.ethernet, [outer])).map((p) => p.flow)).toEqual(['udp:10.0.0.1:5060>10.0.0.2:5060']);
  });
});
