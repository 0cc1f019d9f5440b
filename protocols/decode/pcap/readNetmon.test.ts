// Captures from Windows tools: Microsoft Network Monitor 2.x files (magic
// "GMBU"), written by our generator's NetMon writer from the MAP fixture's
// frames, must read as the same frames the pcap gives; tshark, which reads
// NetMon natively, is the second oracle. NetMon 1.x is refused, saying how
// to convert it.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { haveTshark, noTsharkReason, tshark } from '../../../test/support/captures.ts';
import { MAP_FIXTURE, fixturePath } from '../../../test/support/fixtures.ts';
import { buildNetmon, type NetmonWriteFrame } from '../../../tools/generator/netmonWriter.ts';
import { flipBit, prng } from '../../../test/support/fuzz.ts';
import { DecodeError } from '../layer.ts';
import { CaptureParser } from './captureParser.ts';
import { NETMON_MAGIC } from './captureFormat.ts';
import type { CapturedFrame } from './capturedFrame.ts';
import { readCapture, readCaptureStream } from './readCapture.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'netmon-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(it: AsyncIterable<CapturedFrame>): Promise<CapturedFrame[]> {
  const out: CapturedFrame[] = [];
  for await (const f of it) out.push({ ...f, data: Buffer.from(f.data) });
  return out;
}

function chunksOf(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

const plain = (frames: CapturedFrame[]) =>
  frames.map((f) => ({ index: f.index, timeNs: f.timeNs, linkType: f.linkType, origLength: f.origLength, data: f.data.toString('hex') }));

const pcapFrames = await collect(readCapture(fixturePath(MAP_FIXTURE)));
const asNetmon: NetmonWriteFrame[] = pcapFrames.map((f) => ({ timeNs: f.timeNs, data: f.data, origLength: f.origLength }));

describe('NetMon 2.x captures', () => {
  it.each([3, 2, 1, 0] as const)(
    'version 2.%i written by the generator reads as the same frames as the pcap fixture, whole or in small chunks',
    async (minor) => {
      const file = path.join(tmp, `map-2${minor}.cap`);
      writeFileSync(file, buildNetmon(asNetmon, { minor }));
      expect(pcapFrames.length).toBeGreaterThan(50);
      expect(plain(await collect(readCapture(file)))).toEqual(plain(pcapFrames));
      expect(plain(await collect(readCaptureStream(chunksOf(buildNetmon(asNetmon, { minor }), 77))))).toEqual(plain(pcapFrames));
    },
  );

  it.skipIf(!haveTshark)(`tshark reads our NetMon file as the same frames${haveTshark ? '' : ` (skipped: ${noTsharkReason})`}`, () => {
    const file = path.join(tmp, 'map-tshark.cap');
    writeFileSync(file, buildNetmon(asNetmon, { minor: 3 }));
    const rows = tshark(['-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'gsm_old.localValue']);
    const pcapRows = tshark([
      '-r',
      fixturePath(MAP_FIXTURE),
      '-T',
      'fields',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.len',
      '-e',
      'frame.cap_len',
      '-e',
      'gsm_old.localValue',
    ]);
    expect(rows).toEqual(pcapRows);
  });

  it('takes each frame its media type from the trailer (pcap LINKTYPEs as 0xE000 + n) and skips metadata frames as tshark does', async () => {
    const ip = Buffer.from('450000140000000040ff0000c0000201c0000202', 'hex');
    const frames: NetmonWriteFrame[] = [
      { timeNs: 1_700_000_000_000_000_000n, data: pcapFrames[0]!.data },
      { timeNs: 1_700_000_000_000_001_000n, data: ip, network: 0xe000 + 101 },
      { timeNs: 1_700_000_000_000_002_000n, data: Buffer.from('network info'), network: 0xfffd },
      { timeNs: 1_700_000_000_000_003_000n, data: ip, network: 9 }, // NetMon's "raw IP frames"
    ];
    const out = await collect(readCaptureStream(Readable.from([buildNetmon(frames, { minor: 3 })])));
    expect(out.map((f) => [f.index, f.linkType, f.data.length])).toEqual([
      [1, 1, pcapFrames[0]!.data.length],
      [2, 101, 20],
      [3, 101, 20],
    ]);
  });

  it('reports a file cut before its frame table as truncated, naming the format', async () => {
    const whole = buildNetmon(asNetmon, { minor: 3 });
    const errors: DecodeError[] = [];
    await collect(readCaptureStream(Readable.from([whole.subarray(0, whole.length - 10)]), { onTruncated: (e) => errors.push(e) }));
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/Network Monitor 2\.3 file ends before its frame table/)]);
  });

  it('fuzz: a mutated NetMon file only ever throws DecodeError', () => {
    const rnd = prng(0x5eed);
    const original = buildNetmon(asNetmon.slice(0, 40), { minor: 3 });
    for (let i = 0; i < 500; i++) {
      // Flip bits in the header, the frames or the table; sometimes cut the file short.
      const b = Buffer.from(original.subarray(0, original.length - (rnd() < 0.2 ? Math.floor(rnd() * original.length) : 0)));
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--)
        flipBit(b, Math.floor(rnd() * Math.min(b.length, rnd() < 0.5 ? 128 : b.length)), Math.floor(rnd() * 8));
      if (b.length >= 4) b.writeUInt32LE(NETMON_MAGIC.v2, 0);
      const p = new CaptureParser();
      try {
        for (let o = 0; o < b.length; o += 500) p.push(b.subarray(o, o + 500));
        p.end();
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }
  });

  it('refuses NetMon 1.x, naming the format and how to convert it', async () => {
    const v1 = Buffer.alloc(128);
    v1.write('RTSS', 0, 'latin1');
    v1.writeUInt8(1, 5);
    const err = await collect(readCaptureStream(Readable.from([v1]))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).message).toMatch(/Microsoft Network Monitor 1\.x.*not supported.*editcap -F pcapng/);
  });
});
