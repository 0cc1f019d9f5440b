// Fuzz: mutated copies of real SS7 messages (bit flips, truncation, random
// bytes, length fields) must only ever make the decoders throw DecodeError,
// and must terminate. Seeded, bounded by iterations and time.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, noCapturesReason } from '../../test/support/captures.ts';
import { sctpUserMessages } from '../../test/support/sctpUserMessages.ts';
import { DecodeError } from './layer.ts';
import { Ss7Dissector } from './ss7Dissector.ts';
import { TcapTransactions } from '../../taps/correlation/tcapTransactions.ts';
import { IsupCalls } from '../../taps/correlation/isupCalls.ts';
import { prng as mulberry32 } from '../../test/support/fuzz.ts';
import { ISUP_FIXTURE, MAP_FIXTURE, fixturePath } from '../../test/support/fixtures.ts';

const FILES = [
  'ss7/map-location-update-m3ua.pcap',
  'ss7/map-lu-ati-m3ua.pcap',
  'ss7/map-gprs-attach-m3ua.pcap',
  'ss7/map-sms-m2pa.pcap',
  'ss7/isup-call-m3ua-draft6.pcap',
];

describe(`SS7 fuzz${haveCaptures ? '' : ` (generated fixtures only: ${noCapturesReason})`}`, () => {
  it('mutated real messages only throw DecodeError', () => {
    // The generated fixtures always; the shared captures (M2PA, draft-6 M3UA) when present,
    // with a sample of the bench file for its non-standard TCAP (context-class tags).
    const generated = [MAP_FIXTURE, ISUP_FIXTURE].flatMap((f) => sctpUserMessages(fixturePath(f)));
    const shared = haveCaptures
      ? [
          ...FILES.flatMap((f) => sctpUserMessages(capture(f))),
          ...sctpUserMessages(capture('bench/sigtran-tcap-load.pcap.gz')).filter((_u, i) => i % 997 === 0),
        ]
      : [];
    const seeds = [...generated, ...shared].filter((u) => u.ppid === 3 || u.ppid === 5);
    expect(seeds.length).toBeGreaterThan(150);
    const rnd = mulberry32(0x5eed);
    const int = (n: number) => Math.floor(rnd() * n);
    const d = new Ss7Dissector({ reassembly: { maxPending: 64 } });
    const tx = new TcapTransactions({ maxDialogues: 256 });
    const calls = new IsupCalls({ maxCalls: 256 });
    const reasons: Record<string, number> = {};
    let decoded = 0;
    const deadline = Date.now() + 4000;
    let i = 0;
    for (; i < 60_000 && Date.now() < deadline; i++) {
      const s = seeds[int(seeds.length)]!;
      const b = Buffer.from(s.payload);
      let buf: Buffer = b;
      switch (int(5)) {
        case 0: // bit flips
          for (let k = 1 + int(8); k > 0; k--) b[int(b.length)]! ^= 1 << int(8);
          break;
        case 1: // truncation
          buf = b.subarray(0, int(b.length));
          break;
        case 2: // random bytes
          for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] = int(256);
          break;
        case 3: // a length-like byte set to a boundary value
          b[int(b.length)] = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff][int(8)]!;
          break;
        default: // random tail appended / bytes removed from the middle
          if (rnd() < 0.5) buf = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256)))]);
          else {
            const at = int(b.length);
            buf = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(8)))]);
          }
      }
      try {
        for (const m of d.decode(buf, s.ppid, { timeNs: BigInt(i) * 1_000_000n, frame: i })) {
          decoded++;
          tx.observe(m);
          calls.observe(m);
          JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
        }
      } catch (err) {
        if (!(err instanceof DecodeError)) throw new Error(`seed frame ${s.frame} iteration ${i}: ${String(err)}\n${buf.toString('hex')}`, { cause: err });
        const k = `${err.layer}.${err.reason}`;
        reasons[k] = (reasons[k] ?? 0) + 1;
      }
    }
    expect(i).toBeGreaterThan(1000);
    expect(decoded).toBeGreaterThan(0);
    expect(Object.keys(reasons).length).toBeGreaterThan(3);
    expect(d.reassembler.size).toBeLessThanOrEqual(64);
    expect(tx.size).toBeLessThanOrEqual(256);
  });
});
