// Tap-level fuzz: real frames from every shared capture, mutated (bit flips,
// byte overwrites, boundary values, truncation, duplicated and reordered
// frames), through the whole SignalingDecoder — link, IP, TCP/SCTP
// reassembly, M3UA…MAP/ISUP, SIP, WebSocket, HEP, and the correlators —
// with the state a real stream builds up. Nothing may escape; every failure
// must be a dead letter worth keeping (layer, reason, raw bytes) and be
// counted once. Seeded, so a failure reproduces; the captures are read in
// place, never copied into the repository.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { capturesDir, haveCaptures, noCapturesReason } from '../test/support/captures.ts';
import { FrameDissector } from '../protocols/decode/frameDissector.ts';
import { encodeHep3, HEP_PROTO } from '../protocols/decode/hep/index.ts';
import type { CapturedFrame } from '../protocols/decode/pcap/capturedFrame.ts';
import { ethernet, ipv4, TCP, tcp, udp } from '../test/support/packetBuilder.ts';
import { readCapture } from '../protocols/decode/pcap/readCapture.ts';
import { looksLikeSip } from '../protocols/decode/sip/detect.ts';
import { SignalingDecoder, type DecodeFailure } from './signalingDecoder.ts';
import { prng as mulberry32 } from '../test/support/fuzz.ts';
import { FIXTURE_FILES, fixturePath } from '../test/support/fixtures.ts';

// The bench captures are large; a window of each is enough variety and keeps the run short.
const MAX_FRAMES = 1500;
// Longer hunts: PRESENCE_FUZZ_ROUNDS=500 PRESENCE_FUZZ_SEED=7 (the time bound then scales).
const ROUNDS_PER_FILE = Number(process.env.PRESENCE_FUZZ_ROUNDS ?? 16);
const SEED = Number(process.env.PRESENCE_FUZZ_SEED ?? 0xf022);

function captureFiles(): string[] {
  return (readdirSync(capturesDir, { recursive: true }) as string[]).filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f)).sort();
}

async function framesOf(file: string): Promise<CapturedFrame[]> {
  const out: CapturedFrame[] = [];
  for await (const f of readCapture(path.isAbsolute(file) ? file : path.join(capturesDir, file))) {
    out.push({ ...f, data: Buffer.from(f.data) }); // the reader's buffer is reused
    if (out.length >= MAX_FRAMES) break;
  }
  return out;
}

/**
 * No capture carries HEP, so one seed is built in memory from the
 * captures' (or fixtures') own SIP datagrams and M3UA messages: HEP3 over UDP, and HEP3
 * back to back over one TCP connection (several per segment, some split).
 */
function hepFeed(all: Map<string, CapturedFrame[]>): CapturedFrame[] {
  const sip: Buffer[] = [];
  const m3ua: Buffer[] = [];
  for (const [file, frames] of all) {
    const d = new FrameDissector();
    for (const f of frames) {
      let payloads;
      try {
        payloads = d.dissect(f);
      } catch {
        continue;
      }
      for (const p of payloads) {
        if (p.transport === 'udp' && looksLikeSip(p.payload) && sip.length < 400) sip.push(Buffer.from(p.payload));
        if (p.transport === 'sctp' && p.sctp?.ppid === 3 && (file.startsWith('ss7') || file.startsWith('fixtures/')) && m3ua.length < 200)
          m3ua.push(Buffer.from(p.payload));
      }
    }
  }
  const hep = (payload: Buffer, proto: number, i: number) =>
    encodeHep3({
      ipFamily: 4,
      ipProtocol: proto === HEP_PROTO.SIP ? 17 : 132,
      src: '192.0.2.1',
      dst: '192.0.2.2',
      srcPort: 5060,
      dstPort: 2905,
      timeNs: 1_700_000_000_000_000_000n + BigInt(i),
      protoType: proto,
      captureId: 7,
      payload,
    });
  const packets = [...sip.map((b, i) => hep(b, HEP_PROTO.SIP, i)), ...m3ua.map((b, i) => hep(b, HEP_PROTO.M3UA, i))];
  const frames: CapturedFrame[] = [];
  const frame = (data: Buffer): CapturedFrame => ({
    index: frames.length + 1,
    timeNs: 1_700_000_000_000_000_000n + BigInt(frames.length),
    linkType: 1,
    interfaceId: 0,
    data,
    origLength: data.length,
  });
  const ip = (protocol: number, payload: Buffer) => ethernet(0x0800, ipv4({ src: '198.51.100.1', dst: '198.51.100.2', protocol }, payload));
  for (const p of packets) frames.push(frame(ip(17, udp(40000, 9060, p))));
  // TCP: segments of 1-3 packets; every fifth boundary falls inside a packet.
  const stream = Buffer.concat(packets);
  let seq = 1000;
  frames.push(frame(ip(6, tcp({ srcPort: 40001, dstPort: 9060, seq: seq - 1, flags: TCP.syn }))));
  for (let off = 0, k = 0; off < stream.length; k++) {
    const len = Math.min(stream.length - off, k % 5 === 4 ? 700 : 1400);
    frames.push(frame(ip(6, tcp({ srcPort: 40001, dstPort: 9060, seq, ack: 1, flags: TCP.ack | TCP.psh }, stream.subarray(off, off + len)))));
    off += len;
    seq += len;
  }
  return frames;
}

type Mutation = 'bitflip' | 'overwrite' | 'boundary' | 'truncate' | 'duplicate' | 'reorder' | 'none';

function mutate(frames: CapturedFrame[], rnd: () => number): Array<{ frame: CapturedFrame; how: Mutation }> {
  const int = (n: number) => Math.floor(rnd() * n);
  const out: Array<{ frame: CapturedFrame; how: Mutation }> = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    const r = rnd();
    // Most frames stay intact so streams, reassemblies and transactions get
    // far enough for the mutated ones to hit deep, stateful code.
    if (r < 0.7 || f.data.length === 0) {
      out.push({ frame: f, how: 'none' });
      continue;
    }
    const b = Buffer.from(f.data);
    let data = b;
    let how: Mutation;
    if (r < 0.76) {
      how = 'bitflip';
      for (let k = 1 + int(6); k > 0; k--) b[int(b.length)]! ^= 1 << int(8);
    } else if (r < 0.82) {
      how = 'overwrite';
      for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] = int(256);
    } else if (r < 0.88) {
      // A length-like byte at a boundary value, past the link header where lengths live.
      how = 'boundary';
      for (let k = 1 + int(3); k > 0; k--) b[14 + int(Math.max(1, b.length - 14))] = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff][int(8)]!;
    } else if (r < 0.94) {
      // At least one byte: an empty frame's failure rightly has no raw bytes to keep.
      how = 'truncate';
      data = b.subarray(0, 1 + int(b.length - 1));
    } else if (r < 0.97) {
      how = 'duplicate';
      out.push({ frame: f, how });
    } else {
      how = 'reorder';
      const next = frames[i + 1];
      if (next) {
        out.push({ frame: next, how });
        i++;
      }
    }
    out.push({ frame: { ...f, data }, how });
  }
  return out;
}

interface Round {
  file: string;
  delivered: DecodeFailure[];
  signals: number;
  counted: number;
  slowestMs: number;
  slowest?: { how: Mutation; index: number };
}

/** What a fuzz run over a set of seeds must at least reach. */
interface FuzzBounds {
  minSeeds: number;
  minHepFrames: number;
  minFailures: number;
  minSignals: number;
  /** Signals of each HEP round per frame of the HEP feed. */
  hepSignalsPerFrame: number;
}

/** Mutated rounds over every seed: nothing escapes, every failure is a dead letter worth keeping, counted once. */
function fuzzSeeds(seeds: Map<string, CapturedFrame[]>, bounds: FuzzBounds): void {
  expect(seeds.size).toBeGreaterThanOrEqual(bounds.minSeeds);
  expect(seeds.get('(built) hep-over-udp-and-tcp')!.length).toBeGreaterThan(bounds.minHepFrames);
  const rnd = mulberry32(SEED);
  const rounds: Round[] = [];
  // CPU time, not wall time: the bound must hold on a loaded CI machine too.
  const cpu0 = process.cpuUsage();
  for (const [file, frames] of seeds) {
    for (let round = 0; round < ROUNDS_PER_FILE; round++) {
      const r: Round = { file, delivered: [], signals: 0, counted: 0, slowestMs: 0 };
      const decoder = new SignalingDecoder(
        { signal: () => void r.signals++, failure: (f) => void r.delivered.push(f) },
        { plan: { countryCode: '351', nationalPrefix: '0', internationalPrefix: '00' } },
      );
      for (const { frame, how } of mutate(frames, rnd)) {
        const t = performance.now();
        try {
          decoder.decodeFrame(frame);
        } catch (err) {
          throw new Error(
            `${file} round ${round} frame ${frame.index} (${how}, ${frame.data.length} bytes, hex ${frame.data.toString('hex')}): ${(err as Error).stack}`,
            { cause: err },
          );
        }
        const ms = performance.now() - t;
        if (ms > r.slowestMs) Object.assign(r, { slowestMs: ms, slowest: { how, index: frame.index } });
      }
      expect(() => decoder.finish(), `${file} round ${round} finish()`).not.toThrow();
      r.counted = Object.values(decoder.failures).reduce((a, b) => a + b, 0);
      rounds.push(r);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const elapsedMs = (cpu.user + cpu.system) / 1000;

  const failures = rounds.flatMap((r) => r.delivered.map((f) => ({ file: r.file, f })));
  for (const { file, f } of failures) {
    const where = `${file} frame ${f.frame} ${f.layer}.${f.reason}: ${f.message}`;
    expect(f.layer, where).toMatch(/^[a-z][\w-]*$/);
    expect(f.reason, where).toMatch(/^(truncated|malformed|unsupported|unknown)$/);
    expect(f.message.length, where).toBeGreaterThan(0);
    expect(Buffer.isBuffer(f.raw), where).toBe(true);
    expect(f.raw.length, `${where}: raw bytes`).toBeGreaterThan(0);
  }
  for (const r of rounds) expect(r.counted, `${r.file}: decoder.failures vs failures delivered`).toBe(r.delivered.length);

  // A non-DecodeError escaping a decoder is caught by the tap as
  // `tap.malformed: unexpected …`; that is a decoder bug, not bad input.
  const bugs = failures.filter(({ f }) => f.layer === 'tap' && f.message.includes('unexpected'));
  expect(bugs.map(({ file, f }) => `${file} #${f.frame}: ${f.message} raw ${f.raw.toString('hex').slice(0, 400)}`)).toEqual([]);

  // The mutations must have reached the decoders and real signaling must still decode.
  const layers = new Set(failures.map(({ f }) => f.layer));
  expect(failures.length).toBeGreaterThan(bounds.minFailures);
  for (const l of ['sip', 'm3ua', 'tcap', 'hep']) expect(layers, `failures at layer ${l}`).toContain(l);
  expect(rounds.reduce((n, r) => n + r.signals, 0)).toBeGreaterThan(bounds.minSignals);
  // The built HEP seed decodes too (its UDP and TCP halves each carry every message once).
  const hepRounds = rounds.filter((r) => r.file.startsWith('(built)'));
  expect(Math.min(...hepRounds.map((r) => r.signals))).toBeGreaterThan(seeds.get('(built) hep-over-udp-and-tcp')!.length * bounds.hepSignalsPerFrame);

  const slowest = rounds.reduce((a, b) => (b.slowestMs > a.slowestMs ? b : a));
  expect(slowest.slowestMs, `slowest frame: ${slowest.file} #${slowest.slowest?.index} (${slowest.slowest?.how})`).toBeLessThan(2000); // a loop or quadratic blow-up, not a GC pause
  expect(elapsedMs).toBeLessThan(10_000 * Math.max(1, ROUNDS_PER_FILE / 16));
  console.log(
    `fuzz (seed ${SEED}): ${rounds.length} rounds over ${seeds.size} captures, ${failures.length} failures in ${layers.size} layers (${[...layers].sort().join(', ')}), ` +
      `${rounds.reduce((n, r) => n + r.signals, 0)} signals, ${(elapsedMs / 1000).toFixed(2)} s CPU, slowest frame ${slowest.slowestMs.toFixed(1)} ms`,
  );
}

describe.skipIf(!haveCaptures)(`SignalingDecoder fuzz${haveCaptures ? '' : ` (${noCapturesReason})`}`, () => {
  const seeds = new Map<string, CapturedFrame[]>();

  beforeAll(async () => {
    for (const f of captureFiles()) seeds.set(f, await framesOf(f));
    seeds.set('(built) hep-over-udp-and-tcp', hepFeed(seeds));
  });

  it('never throws, delivers every failure with layer, reason and raw bytes, counts each once, and stays fast', () => {
    fuzzSeeds(seeds, { minSeeds: 11, minHepFrames: 500, minFailures: 500, minSignals: 1000, hepSignalsPerFrame: 0.5 });
  });
});

describe('SignalingDecoder fuzz on the generated fixtures', () => {
  const seeds = new Map<string, CapturedFrame[]>();

  beforeAll(async () => {
    for (const f of FIXTURE_FILES) seeds.set(`fixtures/${f}`, await framesOf(fixturePath(f)));
    seeds.set('(built) hep-over-udp-and-tcp', hepFeed(seeds));
  });

  it('never throws, delivers every failure with layer, reason and raw bytes, counts each once, and stays fast', () => {
    // Three small files and the HEP feed built from them: fewer seeds, failures and signals than the shared captures give.
    // Their HEP feed is mostly M3UA (200 of 272 packets), which the tap does not decode from HEP inside a
    // capture (SipCarrierDecoder counts it as hepOther): only its SIP turns into signals.
    fuzzSeeds(seeds, { minSeeds: 4, minHepFrames: 100, minFailures: 300, minSignals: 1000, hepSignalsPerFrame: 0.1 });
  });
});
