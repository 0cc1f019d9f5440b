import { describe, it, expect } from 'vitest';
import { TCP } from '../../../test/support/packetBuilder.ts';
import { decodeTcp } from './tcp.ts';
import { TcpStreams, type TcpChunk, type TcpStreamOptions } from './streams.ts';

const SECOND = 1_000_000_000n;

/** Feeds (seq, flags, text, time s) segments to one direction; returns the chunks. */
function run(segments: [number, number, string, number?][], opts?: TcpStreamOptions, streams = new TcpStreams<string>(opts)) {
  const out: TcpChunk<string>[] = [];
  segments.forEach(([seq, flags, text, t], i) => streams.push('a>b', 'meta', seq, flags, Buffer.from(text), i + 1, BigInt(t ?? 0) * SECOND, out));
  return { out, streams, text: out.map((c) => c.data.toString()).join('') };
}

describe('TCP header', () => {
  it('reads ports, sequence numbers, flags and skips options', () => {
    const seg = Buffer.alloc(28);
    seg.writeUInt16BE(5060, 0);
    seg.writeUInt16BE(40000, 2);
    seg.writeUInt32BE(0xfffffff0, 4);
    seg.writeUInt32BE(7, 8);
    seg[12] = 6 << 4; // 24-byte header: 4 bytes of options
    seg[13] = TCP.psh | TCP.ack;
    expect(decodeTcp(seg, 0)).toMatchObject({ srcPort: 5060, dstPort: 40000, seq: 0xfffffff0, ack: 7, flags: 0x18, payloadOffset: 24, payloadEnd: 28 });
  });

  it('refuses a data offset below 5 words, or beyond the segment', () => {
    const seg = Buffer.alloc(20);
    seg[12] = 4 << 4;
    expect(() => decodeTcp(seg, 0)).toThrow(expect.objectContaining({ layer: 'tcp', reason: 'malformed' }));
    seg[12] = 15 << 4;
    expect(() => decodeTcp(seg, 0)).toThrow(expect.objectContaining({ layer: 'tcp', reason: 'truncated' }));
  });
});

describe('TcpStreams', () => {
  it('starts after the SYN and delivers in order', () => {
    const { text, out } = run([
      [1000, TCP.syn, ''],
      [1001, TCP.ack, 'hello '],
      [1007, TCP.ack, 'world'],
    ]);
    expect(text).toBe('hello world');
    expect(out.map((c) => [c.frame, c.gap, c.meta])).toEqual([
      [2, 0, 'meta'],
      [3, 0, 'meta'],
    ]);
  });

  it('buffers out-of-order segments until the hole is filled', () => {
    const { text, out, streams } = run([
      [0, TCP.syn, ''],
      [7, TCP.ack, 'world'],
      [12, TCP.ack, '!'],
      [1, TCP.ack, 'hello '],
    ]);
    expect(text).toBe('hello world!');
    expect(out.map((c) => c.frame)).toEqual([4, 2, 3]);
    expect(streams.stats.outOfOrder).toBe(2);
  });

  it('drops retransmissions and trims partial overlaps', () => {
    const { text, streams } = run([
      [0, TCP.syn, ''],
      [1, TCP.ack, 'abcd'],
      [1, TCP.ack, 'abcd'], // full retransmission
      [3, TCP.ack, 'cdef'], // overlaps 2 bytes
      [0, TCP.syn, ''], // retransmitted SYN: same ISN, ignored
      [7, TCP.ack, 'g'],
    ]);
    expect(text).toBe('abcdefg');
    expect(streams.stats.retransmissions).toBe(1);
  });

  it('joins mid-stream without a SYN', () => {
    expect(
      run([
        [5000, TCP.ack, 'INVITE'],
        [5006, TCP.ack, ' sip:'],
      ]).text,
    ).toBe('INVITE sip:');
  });

  it('wraps around 2^32', () => {
    const { text } = run([
      [0xfffffffd, TCP.ack, 'abc'],
      [2, TCP.ack, 'fgh'],
      [0, TCP.ack, 'de'],
    ]);
    expect(text).toBe('abcdefgh');
  });

  it('ignores data after FIN retransmitted, and starts afresh on a new SYN', () => {
    const { text, streams } = run([
      [100, TCP.syn, ''],
      [101, TCP.ack | TCP.fin, 'bye'],
      [101, TCP.ack | TCP.fin, 'bye'],
      [9000, TCP.syn, ''],
      [9001, TCP.ack, 'again'],
    ]);
    expect(text).toBe('byeagain');
    expect(streams.stats.reused).toBe(1);
  });

  it('forgets buffered data on RST', () => {
    const { text, streams } = run([
      [0, TCP.syn, ''],
      [10, TCP.ack, 'later'],
      [1, TCP.rst, ''],
    ]);
    expect(text).toBe('');
    expect(streams.stats.resets).toBe(1);
    const out: TcpChunk<string>[] = [];
    streams.flush(out);
    expect(out).toEqual([]);
  });

  it('skips a hole after holeTimeoutMs and reports the gap', () => {
    const { out } = run(
      [
        [0, TCP.syn, '', 0],
        [1, TCP.ack, 'ab', 0],
        [13, TCP.ack, 'xyz', 1], // bytes 3..12 never arrive
        [16, TCP.ack, '!', 20],
      ],
      { holeTimeoutMs: 5000 },
    );
    expect(out.map((c) => [c.data.toString(), c.gap])).toEqual([
      ['ab', 0],
      ['xyz', 10],
      ['!', 0],
    ]);
  });

  it('skips an old hole even when its direction goes quiet', () => {
    const s = new TcpStreams<string>({ holeTimeoutMs: 5000 });
    const out: TcpChunk<string>[] = [];
    s.push('quiet', 'q', 0, TCP.syn, Buffer.alloc(0), 1, 0n, out);
    s.push('quiet', 'q', 10, TCP.ack, Buffer.from('stuck'), 2, 0n, out);
    s.push('busy', 'b', 0, TCP.ack, Buffer.from('a'), 3, 3n * SECOND, out);
    expect(out.map((c) => c.meta)).toEqual(['b']);
    s.push('busy', 'b', 1, TCP.ack, Buffer.from('b'), 4, 6n * SECOND, out);
    expect(out.map((c) => [c.meta, c.data.toString(), c.gap])).toEqual([
      ['b', 'a', 0],
      ['q', 'stuck', 9],
      ['b', 'b', 0],
    ]);
  });

  it('skips a hole when out-of-order data passes maxBufferedBytes', () => {
    const { out, streams } = run(
      [
        [0, TCP.syn, ''],
        [101, TCP.ack, 'x'.repeat(30)],
        [131, TCP.ack, 'y'.repeat(30)],
      ],
      { maxBufferedBytes: 40 },
    );
    expect(out.map((c) => [c.data.length, c.gap])).toEqual([
      [30, 100],
      [30, 0],
    ]);
    expect(streams.stats.gaps).toBe(1);
  });

  it('flush delivers what waits behind a hole', () => {
    const { out, streams } = run([
      [0, TCP.syn, ''],
      [5, TCP.ack, 'tail'],
    ]);
    expect(out).toEqual([]);
    streams.flush(out);
    expect(out.map((c) => [c.data.toString(), c.gap])).toEqual([['tail', 4]]);
    expect(streams.size).toBe(0);
  });

  it('sweeps idle directions and caps the flow table', () => {
    const s = new TcpStreams<null>({ idleTimeoutMs: 60_000, maxFlows: 3 });
    const out: TcpChunk<null>[] = [];
    for (let i = 0; i < 5; i++) s.push(`f${i}`, null, 1, TCP.ack, Buffer.from('x'), i, 0n, out);
    expect(s.size).toBe(3);
    expect(s.stats.evicted).toBe(2);
    s.push('late', null, 1, TCP.ack, Buffer.from('x'), 9, 120n * SECOND, out);
    expect(s.size).toBe(1);
    expect(s.stats.timedOut).toBe(3);
  });
});
