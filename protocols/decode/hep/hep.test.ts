// HEP: hand-assembled HEP3/HEP2 bytes laid out from the spec (not produced by
// our encoder), encoder round trips, TCP framing, fuzz, and captured SIP
// carried through HEP3-over-TCP compared with tshark's counts.
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { capture, haveCaptures, haveTshark } from '../../../test/support/captures.ts';
import { DecodeError } from '../layer.ts';
import { looksLikeSip } from '../sip/detect.ts';
import { parseSipMessage } from '../sip/message.ts';
import { countLabels, mutate, prng, tsharkSip, udpPayloads } from '../../../test/support/tsharkPayloads.ts';
import { decodeHep } from './decode.ts';
import { encodeHep3, type HepEncodeInput } from './encode.ts';
import { HepStreamFramer } from './framer.ts';
import type { HepPacket } from './packet.ts';
import { FrameDissector } from '../frameDissector.ts';
import { readCapture } from '../pcap/readCapture.ts';
import { SIP_FIXTURE, fixtureLog, fixturePath } from '../../../test/support/fixtures.ts';

const sip = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: h1\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nContent-Length: 0\r\n\r\n');

/** One generic chunk: vendor 0, type, length including the 6-byte chunk header. */
function c(type: number, body: number[] | Buffer): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return Buffer.concat([Buffer.from([0, 0, type >> 8, type & 0xff, (b.length + 6) >> 8, (b.length + 6) & 0xff]), b]);
}

function hep3(chunks: Buffer[]): Buffer {
  const body = Buffer.concat(chunks);
  const len = body.length + 6;
  return Buffer.concat([Buffer.from([0x48, 0x45, 0x50, 0x33, len >> 8, len & 0xff]), body]);
}

const handHep3 = hep3([
  c(0x01, [0x02]), // AF_INET
  c(0x02, [0x11]), // UDP
  c(0x03, [192, 0, 2, 1]),
  c(0x04, [198, 51, 100, 7]),
  c(0x07, [0x13, 0xc4]), // 5060
  c(0x08, [0x13, 0xc5]), // 5061
  c(0x09, [0x65, 0x53, 0xf1, 0x00]), // 1700000000
  c(0x0a, [0x00, 0x01, 0xe2, 0x40]), // 123456 us
  c(0x0b, [0x01]), // SIP
  c(0x0c, [0x00, 0x00, 0x07, 0xd1]), // 2001
  c(0x0e, Buffer.from('myHep')),
  Buffer.from([0x00, 0x99, 0x00, 0x01, 0x00, 0x08, 0xde, 0xad]), // vendor chunk, ignored
  c(0x0f, sip),
]);

describe('decodeHep', () => {
  it('HEP3 hand-assembled per spec', () => {
    const p = decodeHep(handHep3);
    expect(p).toEqual({
      version: 3,
      ipFamily: 4,
      ipProtocol: 17,
      src: '192.0.2.1',
      dst: '198.51.100.7',
      srcPort: 5060,
      dstPort: 5061,
      timeNs: 1_700_000_000_123_456_000n,
      protoType: 1,
      captureId: 2001,
      authKey: 'myHep',
      payload: sip,
    } satisfies HepPacket);
  });

  it('HEP3 IPv6 with gzip-compressed payload', () => {
    const v6a = Buffer.from('20010db8000000000000000000000001', 'hex');
    const v6b = Buffer.from('20010db8000100000000000000000abc', 'hex');
    const p = decodeHep(hep3([c(1, [10]), c(2, [6]), c(5, v6a), c(6, v6b), c(7, [0, 80]), c(8, [0x13, 0xc4]), c(0x0b, [1]), c(0x10, gzipSync(sip))]));
    expect(p).toMatchObject({ ipFamily: 6, ipProtocol: 6, src: '2001:db8::1', dst: '2001:db8:1::abc', compressed: true, timeNs: 0n });
    expect(p.payload.equals(sip)).toBe(true);
  });

  it('HEP2 (IPv4, little-endian time header with padding) and HEP1', () => {
    const hdr = [2, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc4, 10, 0, 0, 1, 10, 0, 0, 2];
    const time = [0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00, 0xd1, 0x07, 0, 0]; // 1700000000 s, 123456 us, id 2001 (LE)
    const p2 = decodeHep(Buffer.concat([Buffer.from(hdr), Buffer.from(time), sip]));
    expect(p2).toMatchObject({
      version: 2,
      ipFamily: 4,
      src: '10.0.0.1',
      dst: '10.0.0.2',
      srcPort: 5060,
      timeNs: 1_700_000_000_123_456_000n,
      captureId: 2001,
      protoType: 1,
    });
    expect(p2.payload.equals(sip)).toBe(true);
    const p1 = decodeHep(Buffer.concat([Buffer.from([1, ...hdr.slice(1)]), sip]));
    expect(p1).toMatchObject({ version: 1, timeNs: 0n });
    expect(parseSipMessage(p1.payload).callId).toBe('h1');
  });

  it('errors: truncated, bad chunk length, missing payload, not HEP', () => {
    const reason = (b: Buffer) => {
      try {
        decodeHep(b);
        return 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        return (e as DecodeError).reason;
      }
    };
    expect(reason(handHep3.subarray(0, handHep3.length - 1))).toBe('truncated');
    const bad = Buffer.from(handHep3);
    bad.writeUInt16BE(3, 6 + 4); // first chunk length 3 < 6
    expect(reason(bad)).toBe('malformed');
    expect(reason(hep3([c(1, [2]), c(3, [1, 2, 3, 4]), c(4, [1, 2, 3, 4])]))).toBe('malformed');
    expect(reason(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('unknown');
    expect(reason(hep3([c(1, [2]), c(3, [1, 2, 3, 4]), c(4, [1, 2, 3, 4]), c(0x10, Buffer.from('not gzip')), c(0x0f, sip)]))).toBe('malformed');
  });
});

describe('encodeHep3', () => {
  it('round-trips IPv4 and IPv6 packets, with and without compression', () => {
    const base = { ipProtocol: 17, srcPort: 5060, dstPort: 5080, timeNs: 1_463_595_803_355_332_000n, protoType: 1, payload: sip };
    const inputs: HepEncodeInput[] = [
      { ...base, ipFamily: 4 as const, src: '172.16.98.145', dst: '172.16.98.101', captureId: 7, correlationId: 'abc' },
      { ...base, ipFamily: 6 as const, src: '::ffff:192.0.2.1', dst: 'fe80::1:2', authKey: 'k', vlanId: 12, compress: true },
    ];
    for (const p of inputs) {
      const { compress, ...expected } = p;
      const d = decodeHep(encodeHep3(p));
      expect(d).toEqual({ version: 3, ...expected, ...(compress ? { compressed: true } : {}) });
    }
    const z = decodeHep(encodeHep3({ ...base, ipFamily: 6, src: '2001:DB8:0:0:1:0:0:1', dst: '0:0:0:0:0:0:0:0' }));
    expect([z.src, z.dst]).toEqual(['2001:db8::1:0:0:1', '::']); // RFC 5952 §4.2.3: first longest run
  });

  it('matches the hand-assembled bytes for the same fields (chunk order as Homer agents)', () => {
    const enc = encodeHep3({
      ipFamily: 4,
      ipProtocol: 17,
      src: '192.0.2.1',
      dst: '198.51.100.7',
      srcPort: 5060,
      dstPort: 5061,
      timeNs: 1_700_000_000_123_456_000n,
      protoType: 1,
      captureId: 2001,
      payload: sip,
    });
    const hand = hep3([
      c(1, [2]),
      c(2, [17]),
      c(3, [192, 0, 2, 1]),
      c(4, [198, 51, 100, 7]),
      c(7, [0x13, 0xc4]),
      c(8, [0x13, 0xc5]),
      c(9, [0x65, 0x53, 0xf1, 0x00]),
      c(0x0a, [0, 1, 0xe2, 0x40]),
      c(0x0b, [1]),
      c(0x0c, [0, 0, 7, 0xd1]),
      c(0x0f, sip),
    ]);
    expect(enc.equals(hand)).toBe(true);
  });
});

describe('HepStreamFramer', () => {
  it('frames packets across arbitrary chunking and skips garbage', () => {
    const pkts = [
      handHep3,
      encodeHep3({
        ipFamily: 4,
        ipProtocol: 6,
        src: '1.2.3.4',
        dst: '5.6.7.8',
        srcPort: 1,
        dstPort: 2,
        timeNs: 5n * 1000n,
        protoType: 9,
        payload: Buffer.from([1, 0, 1, 1]),
      }),
    ];
    const stream = Buffer.concat([Buffer.from('junkHEP'), pkts[0]!, pkts[1]!, pkts[0]!]);
    for (let step = 1; step < 60; step += 7) {
      const f = new HepStreamFramer();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...f.push(stream.subarray(i, i + step)));
      expect(out.map((b) => decodeHep(b).protoType)).toEqual([1, 9, 1]);
      expect(f.stats.garbageBytes).toBe(7);
      expect(f.pendingBytes).toBe(0);
    }
  });

  it('fuzz: decodeHep only throws DecodeError; framer terminates', () => {
    const rnd = prng(0x4e93);
    const seeds = [
      handHep3,
      encodeHep3({
        ipFamily: 6,
        ipProtocol: 17,
        src: '2001:db8::1',
        dst: '2001:db8::2',
        srcPort: 1,
        dstPort: 2,
        timeNs: 1n,
        protoType: 1,
        payload: sip,
        compress: true,
      }),
    ];
    const deadline = Date.now() + 2000;
    for (let i = 0; i < 30_000 && Date.now() < deadline; i++) {
      const input = mutate(seeds[i % 2]!, rnd);
      try {
        decodeHep(input);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw new Error(`non-DecodeError ${String(e)} on ${input.toString('base64')}`, { cause: e });
      }
      const f = new HepStreamFramer();
      for (const b of f.push(input)) expect(b.length).toBeGreaterThanOrEqual(6);
    }
  });
});

describe.skipIf(!haveCaptures || !haveTshark)('captured SIP through HEP3 over TCP', () => {
  it('register-invite-udp.pcap wrapped in HEP3, streamed, framed and decoded equals tshark counts', () => {
    const file = capture('sip/register-invite-udp.pcap');
    const dgrams = udpPayloads(file).filter((d) => looksLikeSip(d.payload));
    const stream = Buffer.concat(
      dgrams.map((d) =>
        encodeHep3({
          ipFamily: 4,
          ipProtocol: 17,
          src: '192.0.2.1',
          dst: '192.0.2.2',
          srcPort: 5060,
          dstPort: 5060,
          timeNs: d.timeNs,
          protoType: 1,
          payload: d.payload,
        }),
      ),
    );
    const f = new HepStreamFramer();
    const counts: Record<string, number> = {};
    const times: bigint[] = [];
    for (let i = 0; i < stream.length; i += 1400) {
      for (const raw of f.push(stream.subarray(i, i + 1400))) {
        const h = decodeHep(raw);
        times.push(h.timeNs);
        const m = parseSipMessage(h.payload);
        const k = m.kind === 'request' ? m.method : String(m.status);
        counts[k] = (counts[k] ?? 0) + 1;
      }
    }
    const rows = tsharkSip(file, 'sip', ['sip.Method', 'sip.Status-Code']);
    expect(counts).toEqual(countLabels(rows.flatMap((r) => [r[0] ?? '', r[1] ?? ''])));
    // HEP keeps microseconds: capture times survive truncated to us
    expect(times).toEqual(dgrams.map((d) => (d.timeNs / 1000n) * 1000n));
  });
});

describe('generated SIP fixture through HEP3 over TCP', () => {
  it(`${SIP_FIXTURE} wrapped in HEP3, streamed, framed and decoded: the messages the generator wrote, at its times`, async () => {
    const log = fixtureLog(SIP_FIXTURE);
    const d = new FrameDissector();
    const dgrams = [];
    for await (const f of readCapture(fixturePath(SIP_FIXTURE))) dgrams.push(...d.dissect(f));
    const stream = Buffer.concat(
      dgrams.map((g) =>
        encodeHep3({
          ipFamily: 4,
          ipProtocol: 17,
          src: g.src,
          dst: g.dst,
          srcPort: g.srcPort,
          dstPort: g.dstPort,
          timeNs: g.timeNs,
          protoType: 1,
          payload: g.payload,
        }),
      ),
    );
    const f = new HepStreamFramer();
    const got: string[] = [];
    const times: bigint[] = [];
    for (let i = 0; i < stream.length; i += 1400) {
      for (const raw of f.push(stream.subarray(i, i + 1400))) {
        const h = decodeHep(raw);
        times.push(h.timeNs);
        const m = parseSipMessage(h.payload);
        got.push(m.kind === 'request' ? m.method : `${m.status} ${m.cseq.method}`);
      }
    }
    expect(got).toEqual(log.map((p) => p.meta.message));
    // HEP keeps microseconds, as the pcap does.
    expect(times).toEqual(log.map((p) => (p.timeNs / 1000n) * 1000n));
  });
});
