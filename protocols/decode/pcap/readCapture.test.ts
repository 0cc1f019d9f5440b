import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { rmSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { capture, capturesDir, haveCaptures, haveTshark, noCapturesReason, noTsharkReason, tshark } from '../../../test/support/captures.ts';
import { flipBit } from '../../../test/support/fuzz.ts';
import { DecodeError } from '../layer.ts';
import type { CapturedFrame } from './capturedFrame.ts';
import { CaptureParser } from './captureParser.ts';
import { readCapture, readCaptureStream } from './readCapture.ts';
import { buildPcap, writePcap } from './writePcap.ts';
import { FIXTURE_FILES, MAP_FIXTURE, fixtureLog, fixturePath, tsharkNote } from '../../../test/support/fixtures.ts';

async function collect(it: AsyncIterable<CapturedFrame>): Promise<CapturedFrame[]> {
  const out: CapturedFrame[] = [];
  for await (const f of it) out.push(f);
  return out;
}

function chunksOf(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

/** Epoch nanoseconds as tshark prints frame.time_epoch (seconds.nanoseconds). */
function epoch(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'pcap-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const captureFiles = haveCaptures ? ['sip', 'ss7', 'bench'].flatMap((d) => readdirSync(path.join(capturesDir, d)).map((f) => `${d}/${f}`)) : [];

/** Frame count, and times and lengths of (a sample of) the frames, ours and tshark's. */
async function framesMatchTshark(file: string): Promise<void> {
  const frames: { n: number; t: string; len: number; cap: number }[] = [];
  let count = 0;
  for await (const f of readCapture(file)) {
    count++;
    expect(f.index).toBe(count);
    // Keep a sample only: bench files have 100k+ frames.
    if (count <= 300 || count % 997 === 0) frames.push({ n: f.index, t: epoch(f.timeNs), len: f.origLength, cap: f.data.length });
  }
  const rows = tshark(['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len']);
  expect(count).toBe(rows.length);
  for (const s of frames) {
    const [n, t, len, cap] = rows[s.n - 1]!.split('\t');
    expect({ n: Number(n), t, len: Number(len), cap: Number(cap) }).toEqual(s);
  }
}

describe.skipIf(!haveCaptures || !haveTshark)(
  `readCapture on the shared captures ${!haveCaptures ? noCapturesReason : !haveTshark ? noTsharkReason : ''}`,
  () => {
    it.each(captureFiles)('%s: frame count, times and lengths agree with tshark', (file) => framesMatchTshark(capture(file)));
  },
);

describe.skipIf(!haveTshark)(`readCapture on the generated fixtures${tsharkNote}`, () => {
  it.each(FIXTURE_FILES)('%s: frame count, times and lengths agree with tshark', (file) => framesMatchTshark(fixturePath(file)));
});

describe('readCapture on the generated fixtures, against the generator', () => {
  it.each(FIXTURE_FILES)('%s: the very frames the generator wrote, at its times to the microsecond', async (file) => {
    const log = fixtureLog(file);
    const frames = await collect(readCapture(fixturePath(file)));
    expect(frames).toHaveLength(log.length);
    frames.forEach((f, i) => {
      expect(f.index).toBe(i + 1);
      expect(f.linkType).toBe(1);
      expect(f.timeNs).toBe((log[i]!.timeNs / 1000n) * 1000n);
      expect(f.origLength).toBe(log[i]!.frame.length);
      expect(f.data.equals(log[i]!.frame), `frame ${f.index}`).toBe(true);
    });
  });

  it('reads a gzipped fixture the same, and stops when the consumer stops early', async () => {
    const gz = path.join(tmp, 'fixture.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixturePath(MAP_FIXTURE))));
    const plain = await collect(readCapture(fixturePath(MAP_FIXTURE)));
    expect((await collect(readCapture(gz))).map((f) => f.data.toString('hex'))).toEqual(plain.map((f) => f.data.toString('hex')));
    let n = 0;
    for await (const f of readCapture(gz)) {
      n = f.index;
      if (n === 10) break;
    }
    expect(n).toBe(10);
  });
});

describe('pcap (classic)', () => {
  const frames = [
    { timeNs: 1_700_000_000_123_456_000n, data: Buffer.from('first frame') },
    { timeNs: 1_700_000_001_000_001_000n, data: Buffer.from('second'), origLength: 100 },
  ];

  it('reads a hand-built big-endian microsecond file', async () => {
    // Written byte by byte from the format description, not by our writer.
    const file = Buffer.from([
      0xa1,
      0xb2,
      0xc3,
      0xd4,
      0x00,
      0x02,
      0x00,
      0x04,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0x00,
      0x00,
      0xff,
      0xff,
      0x00,
      0x00,
      0x00,
      0x71, // header, linktype 113
      0x65,
      0x53,
      0xf1,
      0x00,
      0x00,
      0x07,
      0xa1,
      0x20,
      0x00,
      0x00,
      0x00,
      0x03,
      0x00,
      0x00,
      0x00,
      0x09,
      0xaa,
      0xbb,
      0xcc, // ts 1700000000.500000, 3 of 9 bytes
    ]);
    const got = await collect(readCaptureStream(Readable.from([file])));
    expect(got).toHaveLength(1);
    expect(got[0]!.timeNs).toBe(1_700_000_000_500_000_000n);
    expect(got[0]!.linkType).toBe(113);
    expect(got[0]!.origLength).toBe(9);
    expect([...got[0]!.data]).toEqual([0xaa, 0xbb, 0xcc]);
  });

  it.each([
    ['little-endian µs', { linkType: 1 }],
    ['little-endian ns', { linkType: 1, nanosecond: true }],
    ['big-endian ns', { linkType: 276, nanosecond: true, bigEndian: true }],
  ])('round-trips %s through the writer, in 7-byte chunks', async (_name, opts) => {
    const file = buildPcap(frames, opts);
    const got = await collect(readCaptureStream(chunksOf(file, 7)));
    expect(got.map((f) => [f.index, f.timeNs, f.linkType, f.data.toString(), f.origLength])).toEqual([
      [1, frames[0]!.timeNs, opts.linkType, 'first frame', 11],
      [2, frames[1]!.timeNs, opts.linkType, 'second', 100],
    ]);
  });

  it('detects gzip by its magic, whatever the name', async () => {
    const file = path.join(tmp, 'not-obviously-compressed.pcap');
    writeFileSync(file, gzipSync(buildPcap(frames, { linkType: 1 })));
    const got = await collect(readCapture(file));
    expect(got.map((f) => f.data.toString())).toEqual(['first frame', 'second']);
  });

  it('delivers the frames before a truncated last record, and reports the cut', async () => {
    const whole = buildPcap(frames, { linkType: 1 });
    const cut = whole.subarray(0, whole.length - 3);
    const reported: DecodeError[] = [];
    const got = await collect(readCaptureStream(Readable.from([cut]), { onTruncated: (e) => reported.push(e) }));
    expect(got).toHaveLength(1);
    expect(reported.map((e) => `${e.layer}.${e.reason}`)).toEqual(['pcap.truncated']);
    await expect(collect(readCaptureStream(Readable.from([cut]), { strict: true }))).rejects.toMatchObject({ layer: 'pcap', reason: 'truncated' });
  });

  it('handles a gzip stream cut short the same way', async () => {
    const gz = gzipSync(buildPcap([...frames, ...frames, ...frames], { linkType: 1 }));
    const reported: DecodeError[] = [];
    const got = await collect(readCaptureStream(Readable.from([gz.subarray(0, gz.length - 12)]), { onTruncated: (e) => reported.push(e) }));
    expect(reported).toHaveLength(1);
    expect(reported[0]!.reason).toBe('truncated');
    expect(got.length).toBeLessThanOrEqual(6);
  });

  it('reads the modified (Kuznetzov) pcap format with its 24-byte record headers', async () => {
    const header = buildPcap([], { linkType: 1 });
    header.writeUInt32LE(0xa1b2cd34, 0);
    const rec = Buffer.alloc(24 + 3);
    rec.writeUInt32LE(10, 0);
    rec.writeUInt32LE(5, 4);
    rec.writeUInt32LE(3, 8);
    rec.writeUInt32LE(3, 12); // then ifindex, protocol, pkt_type, pad: 8 bytes
    rec.write('abc', 24);
    const got = await collect(readCaptureStream(Readable.from([Buffer.concat([header, rec])])));
    expect(got.map((f) => [f.timeNs, f.data.toString()])).toEqual([[10_000_005_000n, 'abc']]);
  });

  it.skipIf(!haveCaptures)('stops reading when the consumer stops early (gzip path)', async () => {
    let n = 0;
    for await (const f of readCapture(capture('bench/sigtran-tcap-load.pcap.gz'))) {
      n = f.index;
      if (n === 10) break;
    }
    expect(n).toBe(10);
  });

  it('rejects bytes that are no capture format', async () => {
    await expect(collect(readCaptureStream(Readable.from([Buffer.alloc(64, 0x42)])))).rejects.toMatchObject({ layer: 'pcap', reason: 'malformed' });
  });

  it('rejects an absurd record length instead of buffering it', () => {
    const file = buildPcap(frames, { linkType: 1 });
    file.writeUInt32LE(0x7fffffff, 24 + 8);
    const parser = new CaptureParser();
    expect(parser.push(file)).toEqual([]);
    expect(parser.broken).toMatchObject({
      layer: 'pcap',
      reason: 'malformed',
      message: 'pcap: malformed: record 1 at byte offset 24: claims 2147483647 captured bytes',
    });
  });

  it('delivers the frames before a record claiming 2^31 bytes, then names it by number and byte offset', async () => {
    const good = buildPcap(frames, { linkType: 1 });
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(2 ** 31, 8);
    const file = Buffer.concat([good, bad, Buffer.from('whatever follows')]);
    const expected = `pcap: malformed: record 3 at byte offset ${good.length}: claims 2147483648 captured bytes`;
    // In 7-byte chunks too: the offset counts from the start of the capture, not of a chunk.
    for (const source of [() => Readable.from([file]), () => chunksOf(file, 7)]) {
      const got: string[] = [];
      await expect(
        (async () => {
          for await (const f of readCaptureStream(source())) got.push(f.data.toString());
        })(),
      ).rejects.toThrow(expected);
      expect(got).toEqual(['first frame', 'second']);
    }
    const reported: DecodeError[] = [];
    const got = await collect(readCaptureStream(Readable.from([file]), { onBroken: (e) => reported.push(e) }));
    expect(got).toHaveLength(2);
    expect(reported.map((e) => e.message)).toEqual([expected]);
  });

  describe.skipIf(!haveTshark)(`writePcap output read by tshark ${haveTshark ? '' : noTsharkReason}`, () => {
    it.each([false, true])('nanosecond=%s', async (nanosecond) => {
      const file = path.join(tmp, `written-${nanosecond}.pcap`);
      const n = await writePcap(file, frames, { linkType: 1, nanosecond });
      expect(n).toBe(2);
      const rows = tshark(['-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len']);
      expect(rows).toEqual([`${epoch(frames[0]!.timeNs)}\t11\t11`, `${epoch(frames[1]!.timeNs)}\t100\t6`]);
    });
  });
});

// pcapng blocks built from draft-ietf-opsawg-pcapng: type, total length, body padded to 4, total length.
function block(type: number, body: Buffer, le = true): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const len = 12 + padded.length;
  const b = Buffer.alloc(len);
  const w = (v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  w(type, 0);
  w(len, 4);
  padded.copy(b, 8);
  w(len, len - 4);
  return b;
}

function shb(le = true): Buffer {
  const body = Buffer.alloc(16);
  if (le) {
    body.writeUInt32LE(0x1a2b3c4d, 0);
    body.writeUInt16LE(1, 4);
  } else {
    body.writeUInt32BE(0x1a2b3c4d, 0);
    body.writeUInt16BE(1, 4);
  }
  body.fill(0xff, 8, 16); // section length unknown (-1)
  return block(0x0a0d0d0a, body, le);
}

function idb(linkType: number, tsresol: number | undefined, le = true, snapLength = 0): Buffer {
  const opts = tsresol === undefined ? Buffer.alloc(0) : Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  if (tsresol !== undefined) {
    if (le) {
      opts.writeUInt16LE(9, 0);
      opts.writeUInt16LE(1, 2);
    } else {
      opts.writeUInt16BE(9, 0);
      opts.writeUInt16BE(1, 2);
    }
    opts[4] = tsresol; // then 3 padding bytes, then opt_endofopt (4 zero bytes)
  }
  const body = Buffer.alloc(8);
  if (le) {
    body.writeUInt16LE(linkType, 0);
    body.writeUInt32LE(snapLength, 4);
  } else {
    body.writeUInt16BE(linkType, 0);
    body.writeUInt32BE(snapLength, 4);
  }
  return block(1, Buffer.concat([body, opts]), le);
}

function epb(ifId: number, ticks: bigint, data: Buffer, le = true, origLength = data.length): Buffer {
  const body = Buffer.alloc(20);
  const w = (v: number, o: number) => (le ? body.writeUInt32LE(v, o) : body.writeUInt32BE(v, o));
  w(ifId, 0);
  w(Number(ticks >> 32n), 4);
  w(Number(ticks & 0xffffffffn), 8);
  w(data.length, 12);
  w(origLength, 16);
  return block(6, Buffer.concat([body, data]), le);
}

function spb(origLength: number, data: Buffer, le = true): Buffer {
  const body = Buffer.alloc(4);
  if (le) body.writeUInt32LE(origLength, 0);
  else body.writeUInt32BE(origLength, 0);
  return block(3, Buffer.concat([body, data]), le);
}

describe('pcapng', () => {
  let file: Buffer;
  beforeAll(() => {
    file = Buffer.concat([
      shb(true),
      idb(1, undefined), // interface 0: Ethernet, default microseconds
      idb(113, 9), // interface 1: SLL, nanoseconds (if_tsresol 9)
      block(4, Buffer.alloc(8)), // a name resolution block: skipped
      epb(0, 1_700_000_000_000_001n, Buffer.from('eth-us')),
      epb(1, 1_700_000_000_123_456_789n, Buffer.from('sll-ns'), true, 1000),
      block(5, Buffer.alloc(12)), // interface statistics: skipped
      // Second section, big-endian, one interface with 2^-10 s ticks; an SPB.
      shb(false),
      idb(101, 0x80 | 10, false, 4),
      epb(0, 1024n * 5n + 512n, Buffer.from('raw'), false),
      // SPB: the spec stores min(original length, snap length) bytes; no captured-length field.
      spb(10, Buffer.from('0123'), false),
    ]);
  });

  it('follows interfaces, their link types and resolutions, across sections and byte orders', async () => {
    const got = await collect(readCaptureStream(chunksOf(file, 5)));
    expect(got.map((f) => [f.index, f.interfaceId, f.linkType, f.timeNs, f.data.toString(), f.origLength])).toEqual([
      [1, 0, 1, 1_700_000_000_000_001_000n, 'eth-us', 6],
      [2, 1, 113, 1_700_000_000_123_456_789n, 'sll-ns', 1000],
      [3, 0, 101, 5_500_000_000n, 'raw', 3],
      [4, 0, 101, 0n, '0123', 10],
    ]);
  });

  it.skipIf(!haveTshark)('agrees with tshark on the same file', async () => {
    const p = path.join(tmp, 'two-sections.pcapng');
    writeFileSync(p, file);
    const rows = tshark([
      '-r',
      p,
      '-T',
      'fields',
      '-e',
      'frame.number',
      '-e',
      'frame.interface_id',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.len',
      '-e',
      'frame.cap_len',
    ]);
    const got = await collect(readCapture(p));
    // tshark numbers interfaces across sections (the second section's interface 0 is its #2),
    // and prints no time for a Simple Packet Block, which has none (we give 0).
    const norm = rows.map((r) => {
      const [n, , t, len, cap] = r.split('\t');
      return `${n}\t${t || '0.000000000'}\t${len}\t${cap}`;
    });
    expect(norm).toEqual(got.map((f) => `${f.index}\t${epoch(f.timeNs)}\t${f.origLength}\t${f.data.length}`));
  });

  it('refuses a packet on an interface that was never described', () => {
    const p = new CaptureParser();
    p.push(Buffer.concat([shb(), epb(3, 0n, Buffer.from('x'))]));
    expect(p.broken?.message).toMatch(/undeclared interface/);
  });

  it('refuses a block whose trailing length disagrees', () => {
    const bad = Buffer.concat([shb(), idb(1, undefined)]);
    bad.writeUInt32LE(999, bad.length - 4);
    const p = new CaptureParser();
    p.push(bad);
    expect(p.broken).toBeInstanceOf(DecodeError);
  });
});

describe('fuzz: mutated capture files', () => {
  // The generated fixtures always; the shared captures (pcapng, M2PA) too when present.
  const sources = [
    ...FIXTURE_FILES.map(fixturePath),
    ...(haveCaptures ? ['sip/invite-sctp.pcap', 'sip/asterisk-subscribe-publish.pcapng', 'ss7/map-sms-m2pa.pcap'].map(capture) : []),
  ];
  it('only ever throws DecodeError, and terminates', () => {
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const deadline = Date.now() + 3000;
    let runs = 0;
    for (const src of sources) {
      const original = readFileSync(src).subarray(0, 64 * 1024);
      for (let i = 0; i < 300 && Date.now() < deadline; i++) {
        const b = Buffer.from(original.subarray(0, original.length - rand(original.length / 2)));
        for (let k = rand(8) + 1; k > 0; k--) flipBit(b, rand(b.length), rand(8));
        const p = new CaptureParser();
        try {
          for (let o = 0; o < b.length; o += 1000) p.push(b.subarray(o, o + 1000));
          p.end();
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
        runs++;
      }
    }
    expect(runs).toBeGreaterThan(100);
  });
});
