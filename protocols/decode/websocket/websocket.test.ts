// RFC 6455 §5.7 example frames (hand-typed bytes), handshake skipping,
// fragmentation, and SIP over WebSocket from sip-websocket.pcap vs tshark.
import { describe, expect, it } from 'vitest';
import { constants as zc, deflateRawSync } from 'node:zlib';
import { capture, haveCaptures, haveTshark } from '../../../test/support/captures.ts';
import { DecodeError } from '../layer.ts';
import { parseSipMessage, type SipMessage } from '../sip/message.ts';
import { countLabels, mutate, prng, tcpChunks, tsharkSip } from '../../../test/support/tsharkPayloads.ts';
import { WebSocketFlowDecoder } from './flowDecoder.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function texts(d: WebSocketFlowDecoder, ...chunks: Buffer[]): string[] {
  const out: string[] = [];
  for (const c of chunks) {
    const r = d.push(c);
    expect(r.error).toBeUndefined();
    out.push(...r.messages.map((m) => `${m.type}:${m.payload.toString('latin1')}`));
  }
  return out;
}

describe('RFC 6455 §5.7 examples', () => {
  it('single-frame unmasked and masked text "Hello"', () => {
    expect(texts(new WebSocketFlowDecoder(), hex('81 05 48 65 6c 6c 6f'))).toEqual(['text:Hello']);
    expect(texts(new WebSocketFlowDecoder(), hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'))).toEqual(['text:Hello']);
  });

  it('fragmented unmasked text, with a ping in between, split at every byte', () => {
    const stream = hex('01 03 48 65 6c  89 05 48 65 6c 6c 6f  80 02 6c 6f  8a 85 37 fa 21 3d 7f 9f 4d 51 58');
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new WebSocketFlowDecoder();
      expect(texts(d, stream.subarray(0, cut), stream.subarray(cut))).toEqual(['text:Hello']);
      expect(d.stats.controlFrames).toBe(2);
    }
  });

  it('256-byte and 64 KiB binary frames (16- and 64-bit lengths)', () => {
    const d = new WebSocketFlowDecoder();
    const a = Buffer.concat([hex('82 7e 01 00'), Buffer.alloc(256, 1)]);
    const b = Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), Buffer.alloc(65536, 2)]);
    const r = d.push(Buffer.concat([a, b]));
    expect(r.messages.map((m) => [m.type, m.payload.length])).toEqual([
      ['binary', 256],
      ['binary', 65536],
    ]);
  });

  it('HTTP Upgrade handshake skipped on both directions', () => {
    const client = new WebSocketFlowDecoder();
    const req =
      'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n';
    expect(texts(client, Buffer.from(req.slice(0, 30)), Buffer.concat([Buffer.from(req.slice(30)), hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')]))).toEqual([
      'text:Hello',
    ]);
    expect(client.stats.handshakeBytes).toBe(req.length);
    const server = new WebSocketFlowDecoder();
    const resp =
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n';
    expect(texts(server, Buffer.concat([Buffer.from(resp), hex('81 05 48 65 6c 6c 6f')]))).toEqual(['text:Hello']);
  });

  it('refused upgrade, unknown opcode, bad continuation, unknown RSV bits, bad deflate data are DecodeErrors; flow then skipped', () => {
    const cases: Array<[Buffer, string]> = [
      [Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), 'websocket.unsupported'],
      [hex('83 00'), 'websocket.unknown'],
      [hex('80 01 41'), 'websocket.malformed'],
      [hex('a1 01 41'), 'websocket.unsupported'],
      [hex('c1 01 ff'), 'websocket.malformed'], // deflate block type 11 (reserved)
      [hex('01 01 41 c0 01 41'), 'websocket.malformed'], // RSV1 on a continuation
      [hex('09 00'), 'websocket.malformed'],
    ];
    for (const [bytes, want] of cases) {
      const d = new WebSocketFlowDecoder();
      const r = d.push(bytes);
      expect(r.error).toBeInstanceOf(DecodeError);
      expect(`${r.error!.layer}.${r.error!.reason}`).toBe(want);
      expect(d.desynchronised).toBe(true);
      expect(d.push(hex('81 05 48 65 6c 6c 6f')).messages).toEqual([]);
      expect(d.stats.skippedBytes).toBeGreaterThanOrEqual(7);
    }
  });

  it('RFC 7692 §7.2.3 permessage-deflate examples: "Hello", then "Hello" again using the shared window', () => {
    const d = new WebSocketFlowDecoder();
    const r = d.push(hex('c1 07 f2 48 cd c9 c9 07 00  c1 05 f2 00 11 00 00'));
    expect(r.error).toBeUndefined();
    expect(r.messages.map((m) => [m.payload.toString(), m.compressed])).toEqual([
      ['Hello', true],
      ['Hello', true],
    ]);
    // §7.2.3.3: a DEFLATE block with no compression
    expect(texts(new WebSocketFlowDecoder(), hex('c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00'))).toEqual(['text:Hello']);
  });

  it('permessage-deflate: fragmented compressed SIP message, context carried across messages', () => {
    const sipMsg = Buffer.from(
      'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKhjhs8ass877\r\nCall-ID: ws-deflate\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nContent-Length: 0\r\n\r\n',
    );
    // zlib as an independent compressor; the second message uses the first as window (context takeover)
    const c1 = deflateRawSync(sipMsg, { finishFlush: zc.Z_SYNC_FLUSH }).subarray(0, -4);
    const c2 = deflateRawSync(sipMsg, { finishFlush: zc.Z_SYNC_FLUSH, dictionary: sipMsg }).subarray(0, -4);
    expect(c2.length).toBeLessThan(c1.length);
    const half = Math.floor(c1.length / 2);
    const frame = (b0: number, p: Buffer) => Buffer.concat([Buffer.from([b0, p.length]), p]);
    const d = new WebSocketFlowDecoder();
    const r = d.push(Buffer.concat([frame(0x41, c1.subarray(0, half)), frame(0x80, c1.subarray(half)), frame(0xc1, c2)]));
    expect(r.error).toBeUndefined();
    expect(r.messages.map((m) => parseSipMessage(m.payload).callId)).toEqual(['ws-deflate', 'ws-deflate']);
  });

  it('fuzz: mutated streams never throw, only report DecodeError', () => {
    const rnd = prng(0x3e5);
    const seed = Buffer.concat([
      Buffer.from('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'),
      hex('01 03 48 65 6c 89 05 48 65 6c 6c 6f 80 02 6c 6f 81 85 37 fa 21 3d 7f 9f 4d 51 58 82 7e 01 00'),
      Buffer.alloc(256, 7),
    ]);
    const deadline = Date.now() + 2000;
    for (let i = 0; i < 20_000 && Date.now() < deadline; i++) {
      const input = mutate(seed, rnd);
      const d = new WebSocketFlowDecoder({ maxMessageBytes: 4096 });
      for (let p = 0; p < input.length; p += 1 + Math.floor(rnd() * 40)) {
        const r = d.push(input.subarray(p, p + 1 + Math.floor(rnd() * 40)));
        if (r.error) expect(r.error).toBeInstanceOf(DecodeError);
      }
    }
  });
});

describe.skipIf(!haveCaptures || !haveTshark)('SIP over WebSocket capture', () => {
  it('sip-websocket.pcap: SIP messages from WebSocket flows equal tshark', () => {
    const file = capture('sip/sip-websocket.pcap');
    const decoders = new Map<string, WebSocketFlowDecoder>();
    const msgs: SipMessage[] = [];
    // tcpChunks covers every TCP flow; non-WebSocket flows would surface as errors
    for (const c of tcpChunks(file)) {
      let d = decoders.get(c.flow);
      if (!d) decoders.set(c.flow, (d = new WebSocketFlowDecoder()));
      const r = d.push(c.payload);
      expect(r.error).toBeUndefined();
      for (const m of r.messages) msgs.push(parseSipMessage(m.payload));
    }
    const ours: Record<string, number> = {};
    for (const m of msgs) {
      const k = m.kind === 'request' ? m.method : String(m.status);
      ours[k] = (ours[k] ?? 0) + 1;
    }
    const rows = tsharkSip(file, 'sip && websocket', ['sip.Method', 'sip.Status-Code']);
    expect(ours).toEqual(countLabels(rows.flatMap((r) => [r[0] ?? '', r[1] ?? ''])));
    expect(msgs.length).toBe(11);
    const callIds = new Set(tsharkSip(file, 'sip && websocket', ['sip.Call-ID']).map((r) => r[0]));
    expect(new Set(msgs.map((m) => m.callId))).toEqual(callIds);
    expect([...decoders.values()].every((d) => d.stats.handshakeBytes > 0)).toBe(true);
  });
});
