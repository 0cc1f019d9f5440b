// End to end on the shared captures: pcap reader → FrameDissector (the
// transport layers) → SipCarrierDecoder, compared with tshark per file.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark, SIP_CAPTURES } from '../../../test/support/captures.ts';
import { FrameDissector } from '../frameDissector.ts';
import { readCapture } from '../pcap/readCapture.ts';
import { encodeHep3 } from '../hep/encode.ts';
import { SipCarrierDecoder, type DecodedSip } from './carrier.ts';
import { countLabels, tsharkSip } from '../../../test/support/tsharkPayloads.ts';
import { SIP_FIXTURE, fixtureLog, fixturePath, tsharkNote } from '../../../test/support/fixtures.ts';

async function decodePath(file: string): Promise<{ sip: DecodedSip[]; errors: string[]; dec: SipCarrierDecoder }> {
  const d = new FrameDissector();
  const dec = new SipCarrierDecoder();
  const sip: DecodedSip[] = [];
  const errors: string[] = [];
  const feed = (ps: ReturnType<FrameDissector['dissect']>) => {
    for (const p of ps) {
      const r = dec.push(p);
      sip.push(...r.messages);
      errors.push(...r.errors.map((e) => e.message));
    }
  };
  for await (const f of readCapture(file)) {
    try {
      feed(d.dissect(f));
    } catch {
      // transport-layer errors belong to the dissector's own tests
    }
  }
  feed(d.flush());
  return { sip, errors, dec };
}

const decodeFile = (rel: string) => decodePath(capture(rel));

const label = (m: DecodedSip) => (m.message.kind === 'request' ? m.message.method : String(m.message.status));

const files = SIP_CAPTURES;

describe.skipIf(!haveCaptures || !haveTshark)('pcap → FrameDissector → SipCarrierDecoder vs tshark', () => {
  for (const file of files) {
    it(file, async () => {
      const { sip, errors } = await decodeFile(file);
      expect(errors).toEqual([]);
      const ours: Record<string, number> = {};
      for (const m of sip) ours[label(m)] = (ours[label(m)] ?? 0) + 1;
      const rows = tsharkSip(capture(file), 'sip', ['sip.Method', 'sip.Status-Code']);
      expect(ours).toEqual(countLabels(rows.flatMap((r) => [r[0] ?? '', r[1] ?? ''])));
      const carriers = new Set(sip.map((m) => m.carrier));
      if (file.includes('websocket')) expect(carriers.has('websocket')).toBe(true);
      if (file.includes('sctp')) expect([...carriers]).toEqual(['sctp']);
    });
  }
});

// Hand-built: needs neither the shared captures nor tshark.
describe('HEP3 carriage', () => {
  it('HEP3 over UDP and TCP carries SIP with the original capture time', () => {
    const dec = new SipCarrierDecoder();
    const sipText = Buffer.from(
      'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: hep-1\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nContent-Length: 0\r\n\r\n',
    );
    const pkt = encodeHep3({
      ipFamily: 4,
      ipProtocol: 17,
      src: '10.0.0.1',
      dst: '10.0.0.2',
      srcPort: 5060,
      dstPort: 5060,
      timeNs: 1_000_000_000n,
      protoType: 1,
      payload: sipText,
    });
    const rtcp = encodeHep3({
      ipFamily: 4,
      ipProtocol: 17,
      src: '10.0.0.1',
      dst: '10.0.0.2',
      srcPort: 5060,
      dstPort: 5060,
      timeNs: 1n,
      protoType: 5,
      payload: Buffer.from([0x80, 0xc8]),
    });
    const u = dec.push({ timeNs: 9n, transport: 'udp', flow: 'udp:h', payload: pkt });
    expect(u.messages.map((m) => [m.carrier, m.message.callId, m.timeNs, m.hep?.src])).toEqual([['hep', 'hep-1', 1_000_000_000n, '10.0.0.1']]);
    const stream = Buffer.concat([pkt, rtcp, pkt]);
    const got = [
      ...dec.push({ timeNs: 9n, transport: 'tcp', flow: 'tcp:h', payload: stream.subarray(0, 50) }).messages,
      ...dec.push({ timeNs: 9n, transport: 'tcp', flow: 'tcp:h', payload: stream.subarray(50) }).messages,
    ];
    expect(got).toHaveLength(2);
    expect(dec.stats.hepOther).toBe(1);
  });
});

describe('pcap → FrameDissector → SipCarrierDecoder on the generated fixture', () => {
  it(`${SIP_FIXTURE}: every message the generator wrote, over UDP, without errors`, async () => {
    const { sip, errors } = await decodePath(fixturePath(SIP_FIXTURE));
    expect(errors).toEqual([]);
    expect(sip.map((m) => (m.message.kind === 'request' ? m.message.method : `${m.message.status} ${m.message.cseq.method}`))).toEqual(
      fixtureLog(SIP_FIXTURE).map((p) => p.meta.message),
    );
    expect(new Set(sip.map((m) => m.carrier))).toEqual(new Set(['udp']));
  });

  it.skipIf(!haveTshark)(`${SIP_FIXTURE}: method/status counts equal tshark${tsharkNote}`, async () => {
    const { sip } = await decodePath(fixturePath(SIP_FIXTURE));
    const ours: Record<string, number> = {};
    for (const m of sip) ours[label(m)] = (ours[label(m)] ?? 0) + 1;
    const rows = tsharkSip(fixturePath(SIP_FIXTURE), 'sip', ['sip.Method', 'sip.Status-Code']);
    expect(ours).toEqual(countLabels(rows.flatMap((r) => [r[0] ?? '', r[1] ?? ''])));
  });
});
