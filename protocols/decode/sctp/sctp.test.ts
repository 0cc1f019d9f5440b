import { describe, it, expect } from 'vitest';
import { capture, haveCaptures, haveTshark, noCapturesReason, noTsharkReason, tshark } from '../../../test/support/captures.ts';
import { readCapture } from '../pcap/readCapture.ts';
import { sctp, sctpData, sctpSack } from '../../../test/support/packetBuilder.ts';
import { decodeLink } from '../link/linkLayer.ts';
import { decodeIpv4 } from '../ip/ipv4.ts';
import { decodeSctp, type SctpDataChunk } from './sctp.ts';
import { SctpReassembler } from './reassembly.ts';
import { SctpDuplicateFilter } from './duplicateFilter.ts';
import { ISUP_FIXTURE, MAP_FIXTURE, fixtureLog, fixturePath, tsharkNote } from '../../../test/support/fixtures.ts';

const tag = { srcPort: 2905, dstPort: 2906, verificationTag: 0xcafe };

describe('SCTP packet', () => {
  it('returns every DATA chunk of a bundle and counts control chunks', () => {
    const p = sctp(tag, [
      sctpSack(9),
      sctpData({ tsn: 10, streamId: 1, ssn: 4, ppid: 3 }, Buffer.from('abc')), // padded to 4
      sctpData({ tsn: 11, streamId: 2, ssn: 0, ppid: 3, unordered: true }, Buffer.from('defgh')),
      sctpData({ tsn: 12, streamId: 1, ssn: 5, ppid: 5, end: false }, Buffer.from('ij')),
    ]);
    const d = decodeSctp(p, 0);
    expect(d).toMatchObject({ srcPort: 2905, dstPort: 2906, verificationTag: 0xcafe, controlChunks: 1 });
    expect(d.data.map((c) => [c.tsn, c.streamId, c.ssn, c.ppid, c.begin, c.end, c.unordered, c.data.toString()])).toEqual([
      [10, 1, 4, 3, true, true, false, 'abc'],
      [11, 2, 0, 3, true, true, true, 'defgh'],
      [12, 1, 5, 5, true, false, false, 'ij'],
    ]);
  });

  it('accepts a last chunk without its padding', () => {
    const p = sctp(tag, [sctpData({ tsn: 1, streamId: 0, ssn: 0, ppid: 3 }, Buffer.from('abc'))]);
    expect(decodeSctp(p.subarray(0, p.length - 1), 0).data[0]!.data.toString()).toBe('abc');
  });

  it.each([
    ['a chunk length below 4', (b: Buffer) => b.writeUInt16BE(2, 14), 'malformed'],
    ['a DATA chunk below 16 bytes', (b: Buffer) => b.writeUInt16BE(12, 14), 'malformed'],
    ['a chunk overrunning the packet', (b: Buffer) => b.writeUInt16BE(200, 14), 'truncated'],
  ])('refuses %s', (_n, mutate, reason) => {
    const p = sctp(tag, [sctpData({ tsn: 1, streamId: 0, ssn: 0, ppid: 3 }, Buffer.from('abcd'))]);
    mutate(p);
    expect(() => decodeSctp(p, 0)).toThrow(expect.objectContaining({ layer: 'sctp', reason }));
  });
});

describe('SctpReassembler', () => {
  const frag = (tsn: number, begin: boolean, end: boolean, text: string, streamId = 1): SctpDataChunk => ({
    tsn,
    streamId,
    ssn: 7,
    ppid: 3,
    begin,
    end,
    unordered: false,
    data: Buffer.from(text),
  });

  it('passes unfragmented messages straight through', () => {
    const r = new SctpReassembler();
    const c = frag(1, true, true, 'whole');
    expect(r.add('a', c, 0)?.data).toBe(c.data);
  });

  it('joins B..E fragments arriving in any order, across TSN wrap-around', () => {
    const r = new SctpReassembler();
    expect(r.add('a', frag(0, false, false, 'middle-'), 0)).toBeUndefined();
    expect(r.add('a', frag(1, false, true, 'end'), 0)).toBeUndefined();
    const m = r.add('a', frag(0xffffffff, true, false, 'begin-'), 0);
    expect(m?.data.toString()).toBe('begin-middle-end');
    expect(m?.first.tsn).toBe(0xffffffff);
    expect(r.bufferedBytes).toBe(0);
  });

  it('keeps associations apart and drops stale fragments', () => {
    const r = new SctpReassembler({ timeoutMs: 1000 });
    r.add('a', frag(5, true, false, 'x'), 0);
    expect(r.add('b', frag(6, false, true, 'y'), 0)).toBeUndefined();
    r.add('c', frag(1, true, false, 'z'), 5000); // sweeps the old ones
    expect(r.stats.dropped).toBe(2);
    expect(r.add('a', frag(6, false, true, 'y'), 5000)).toBeUndefined();
  });

  it('does not join fragments of different streams', () => {
    const r = new SctpReassembler();
    r.add('a', frag(1, true, false, 'x', 1), 0);
    expect(r.add('a', frag(2, false, true, 'y', 2), 0)).toBeUndefined();
  });

  it('stays under its memory bound', () => {
    const r = new SctpReassembler({ maxBytes: 1000 });
    for (let i = 0; i < 100; i++) r.add('a', frag(i * 2, true, false, 'x'.repeat(50)), 0);
    expect(r.bufferedBytes).toBeLessThanOrEqual(1000);
  });
});

const sctpFiles = [
  'sip/invite-sctp.pcap',
  'ss7/map-location-update-m3ua.pcap',
  'ss7/map-lu-ati-m3ua.pcap',
  'ss7/map-gprs-attach-m3ua.pcap',
  'ss7/map-sms-m2pa.pcap',
  'ss7/isup-call-m3ua-draft6.pcap',
];

/** Every DATA chunk's TSN, stream, SSN, PPID and B/E/U flags, ours and tshark's. */
async function dataChunksMatchTshark(path: string): Promise<void> {
  const ours: string[] = [];
  for await (const f of readCapture(path)) {
    const link = decodeLink(f.linkType, f.data);
    if (link.etherType !== 0x0800) continue;
    const ip = decodeIpv4(f.data, link.offset);
    if (ip.protocol !== 132) continue;
    const p = decodeSctp(f.data, ip.payloadOffset, ip.payloadEnd);
    for (const c of p.data) ours.push([f.index, c.tsn, c.streamId, c.ssn, c.ppid, c.begin ? 1 : 0, c.end ? 1 : 0, c.unordered ? 1 : 0].join(' '));
  }
  const fields = ['sctp.data_tsn_raw', 'sctp.data_sid', 'sctp.data_ssn', 'sctp.data_payload_proto_id', 'sctp.data_b_bit', 'sctp.data_e_bit', 'sctp.data_u_bit'];
  const rows = tshark(['-r', path, '-Y', 'sctp.data_tsn', '-T', 'fields', '-E', 'occurrence=a', '-e', 'frame.number', ...fields.flatMap((f) => ['-e', f])]);
  const theirs: string[] = [];
  for (const row of rows) {
    const [n, ...cols] = row.split('\t');
    const lists = cols.map((c) => c.split(','));
    lists[0]!.forEach((_, i) => {
      const v = lists.map((l) => Number(l[i]));
      theirs.push([Number(n), ...v].join(' '));
    });
  }
  expect(ours).toEqual(theirs);
  expect(ours.length).toBeGreaterThan(0);
}

describe.skipIf(!haveCaptures || !haveTshark)(
  `DATA chunks of the shared captures ${!haveCaptures ? noCapturesReason : !haveTshark ? noTsharkReason : ''}`,
  () => {
    it.each(sctpFiles)('%s: TSN, stream, SSN, PPID and B/E/U flags agree with tshark', (file) => dataChunksMatchTshark(capture(file)));
  },
);

describe.skipIf(!haveTshark)(`DATA chunks of the generated fixtures${tsharkNote}`, () => {
  it.each([MAP_FIXTURE, ISUP_FIXTURE])('%s: TSN, stream, SSN, PPID and B/E/U flags agree with tshark', (file) => dataChunksMatchTshark(fixturePath(file)));
});

describe('DATA chunks of the generated fixtures, against the generator', () => {
  it.each([MAP_FIXTURE, ISUP_FIXTURE])('%s: one whole M3UA chunk per packet; TSN and SSN step by one per association direction', async (file) => {
    const next = new Map<string, { tsn: number; ssn: number }>();
    let n = 0;
    for await (const f of readCapture(fixturePath(file))) {
      const link = decodeLink(f.linkType, f.data);
      const ip = decodeIpv4(f.data, link.offset);
      expect(ip.protocol).toBe(132);
      const p = decodeSctp(f.data, ip.payloadOffset, ip.payloadEnd);
      expect(p.data).toHaveLength(1);
      const c = p.data[0]!;
      expect([c.ppid, c.streamId, c.begin, c.end, c.unordered]).toEqual([3, 1, true, true, false]);
      const dir = `${ip.src}>${ip.dst}`;
      const want = next.get(dir);
      if (want) expect([c.tsn, c.ssn], `frame ${f.index}`).toEqual([want.tsn, want.ssn]);
      next.set(dir, { tsn: (c.tsn + 1) >>> 0, ssn: (c.ssn + 1) & 0xffff });
      n++;
    }
    expect(n).toBe(fixtureLog(file).length);
  });
});

describe('SctpDuplicateFilter', () => {
  it('drops TSNs seen before, within and beyond its window, across wrap-around', () => {
    const f = new SctpDuplicateFilter();
    const seen = (tsn: number) => f.isDuplicate(1, tsn >>> 0);
    expect([seen(0xfffffffe), seen(0xffffffff), seen(1), seen(0), seen(1), seen(0xfffffffe)]).toEqual([false, false, false, false, true, true]);
    expect(f.isDuplicate(2, 1)).toBe(false); // another association
    expect(seen(40)).toBe(false); // a jump ahead of 39
    expect([seen(5), seen(5)]).toEqual([false, true]); // late but unseen, then its copy
    expect(seen(2000)).toBe(false);
    expect(seen(40)).toBe(true); // fell out of the 1024-TSN window: treated as a late copy
    expect(seen(1999)).toBe(false);
    expect(f.duplicates).toBe(4);
  });
});
