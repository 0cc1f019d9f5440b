// Mutation fuzzing: decoders may only throw DecodeError, lazy accessors must
// never throw, and the stream framer must terminate and account for bytes.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark } from '../../../test/support/captures.ts';
import { DecodeError } from '../layer.ts';
import { looksLikeSip } from './detect.ts';
import { SipCarrierDecoder } from './carrier.ts';
import { SipStreamFramer } from './framer.ts';
import { parseSipMessage, type SipMessage } from './message.ts';
import { mutate, prng, udpPayloads } from '../../../test/support/tsharkPayloads.ts';

const handBuilt = Buffer.from(
  [
    'SUBSCRIBE sip:bob@example.com SIP/2.0',
    'v: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKx;rport',
    'f: "A \\"q\\"" <sip:alice@example.com;user=phone>;tag=1',
    't: <tel:+15551234567>',
    'i: fz@h',
    'CSeq: 7 SUBSCRIBE',
    'o: presence.winfo;id=2',
    'Subscription-State: pending;expires=60',
    'm: <sip:a@[2001:db8::1]>;expires=30;q=0.7, *',
    'Expires: 600',
    'c: multipart/related;type="application/rlmi+xml";boundary=xx',
    'l: 4',
    '',
    'body',
  ].join('\r\n'),
);

function touchAll(m: SipMessage): void {
  // every lazy accessor, so their leniency is fuzzed too
  void [
    m.from,
    m.to,
    m.vias,
    m.topVia,
    m.contacts,
    m.contactWildcard,
    m.expires,
    m.minExpires,
    m.retryAfter,
    m.event,
    m.subscriptionState,
    m.sipETag,
    m.sipIfMatch,
    m.contentType,
    m.allowEvents,
    m.supported,
    m.require,
    m.parsedRequestUri,
  ];
}

function corpus(): Buffer[] {
  const out: Buffer[] = [handBuilt];
  if (haveCaptures && haveTshark) {
    for (const f of ['sip/asterisk-subscribe-publish.pcapng', 'sip/register-invite-udp.pcap']) {
      out.push(
        ...udpPayloads(capture(f))
          .map((d) => d.payload)
          .filter((p) => looksLikeSip(p))
          .slice(0, 40),
      );
    }
  }
  return out;
}

describe('SIP fuzz', () => {
  it('parseSipMessage throws only DecodeError on mutated messages', () => {
    const rnd = prng(0x5109);
    const seeds = corpus();
    const deadline = Date.now() + 3000;
    let n = 0;
    let rejected = 0;
    while (n < 30_000 && Date.now() < deadline) {
      const input = mutate(seeds[n % seeds.length]!, rnd);
      n++;
      looksLikeSip(input);
      try {
        touchAll(parseSipMessage(input));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw new Error(`non-DecodeError on input ${input.toString('base64')}: ${String(e)}`, { cause: e });
        rejected++;
      }
    }
    expect(n).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(0);
  });

  it('framer terminates on mutated streams, emits only parseable-or-DecodeError chunks', () => {
    const rnd = prng(0xf4a3);
    const seeds = corpus();
    const deadline = Date.now() + 2000;
    for (let round = 0; round < 2000 && Date.now() < deadline; round++) {
      const stream = Buffer.concat(Array.from({ length: 3 }, () => mutate(seeds[Math.floor(rnd() * seeds.length)]!, rnd)));
      const f = new SipStreamFramer();
      let pos = 0;
      let emitted = 0;
      while (pos < stream.length) {
        const step = 1 + Math.floor(rnd() * 700);
        for (const raw of f.push(stream.subarray(pos, pos + step))) {
          emitted += raw.length;
          try {
            touchAll(parseSipMessage(raw));
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
          }
        }
        pos += step;
      }
      expect(emitted).toBeLessThanOrEqual(stream.length);
    }
  });

  it('carrier decoder (UDP, TCP, WebSocket, HEP flows) never throws on mutated input', () => {
    const rnd = prng(0xca77);
    const seeds = corpus();
    const ws = Buffer.concat([
      Buffer.from('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'),
      Buffer.from([0x81, 0x7e, seeds[0]!.length >> 8, seeds[0]!.length & 0xff]),
      seeds[0]!,
    ]);
    const hep = Buffer.concat([Buffer.from('HEP3'), Buffer.from([0, 6])]);
    const deadline = Date.now() + 2000;
    const dec = new SipCarrierDecoder({ maxFlows: 20 });
    for (let i = 0; i < 20_000 && Date.now() < deadline; i++) {
      const kind = i % 4;
      const base = kind === 2 ? ws : kind === 3 ? Buffer.concat([hep, seeds[i % seeds.length]!]) : seeds[i % seeds.length]!;
      const input = mutate(base, rnd);
      const r = dec.push({ timeNs: BigInt(i), transport: kind === 0 ? 'udp' : 'tcp', flow: `f${i % 64}`, payload: input, gap: rnd() < 0.05 ? 10 : 0 });
      for (const e of r.errors) expect(e).toBeInstanceOf(DecodeError);
    }
    expect(dec.stats.flowsEvicted).toBeGreaterThan(0);
  });
});
