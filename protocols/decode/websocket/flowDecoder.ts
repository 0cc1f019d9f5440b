// Per-flow-direction WebSocket decoder (RFC 6455) for SIP over WebSocket
// (RFC 7118): skips the HTTP Upgrade handshake, unmasks client frames,
// inflates permessage-deflate messages (RFC 7692),
// reassembles fragmented messages, drops control frames and hands whole
// text/binary message payloads on. Stateful over in-order TCP chunks.
//
// Streams cannot be resynchronised inside WebSocket framing, so a framing
// error is reported once (as a DecodeError in the push result, for counting
// and dead-lettering) and the rest of the flow is counted as skipped.
import { constants as zc, inflateRawSync } from 'node:zlib';
import { DecodeError } from '../layer.ts';
import { isControlOpcode, WS_OPCODES } from './opcodes.ts';

const LAYER = 'websocket';
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** RFC 7692 §7.2.2: the sender strips this empty stored block; the receiver appends it back. */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const WINDOW_BYTES = 32 * 1024;

interface WebSocketMessage {
  readonly type: 'text' | 'binary';
  readonly payload: Buffer;
  /** Arrived compressed with permessage-deflate (RFC 7692) and was inflated. */
  readonly compressed?: boolean;
}

interface WebSocketPushResult {
  readonly messages: WebSocketMessage[];
  /** Set when this push hit a framing error; the flow is desynchronised afterwards. */
  readonly error?: DecodeError;
}

interface WebSocketStats {
  frames: number;
  messages: number;
  controlFrames: number;
  handshakeBytes: number;
  /** Bytes dropped after an error or on a flow that did not upgrade. */
  skippedBytes: number;
}

type State = 'start' | 'handshake' | 'frames' | 'dead';

interface WebSocketFlowDecoderOptions {
  maxMessageBytes?: number;
}

export class WebSocketFlowDecoder {
  readonly stats: WebSocketStats = { frames: 0, messages: 0, controlFrames: 0, handshakeBytes: 0, skippedBytes: 0 };
  private state: State = 'start';
  private pending: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentType: 'text' | 'binary' | undefined;
  private fragmentBytes = 0;
  private fragmentCompressed = false;
  /**
   * Last 32 KiB the peer's compressor saw: handed to inflate as a preset
   * dictionary, which reproduces context takeover (RFC 7692 §7.2.3.2). Harmless
   * when the peer negotiated no_context_takeover (it then never refers back).
   */
  private window: Buffer = Buffer.alloc(0);
  private readonly maxMessageBytes: number;

  constructor(options: WebSocketFlowDecoderOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 1 << 20;
  }

  get desynchronised(): boolean {
    return this.state === 'dead';
  }

  push(chunk: Buffer): WebSocketPushResult {
    const messages: WebSocketMessage[] = [];
    if (this.state === 'dead') {
      this.stats.skippedBytes += chunk.length;
      return { messages };
    }
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    try {
      if (this.state === 'start' || this.state === 'handshake') {
        const r = this.handshake(buf);
        if (r === undefined) {
          this.pending = Buffer.from(buf);
          return { messages };
        }
        off = r;
      }
      for (;;) {
        const used = this.frame(buf, off, messages);
        if (used === 0) break;
        off += used;
      }
    } catch (e) {
      const error = e instanceof DecodeError ? e : new DecodeError(LAYER, 'malformed', String(e));
      this.stats.skippedBytes += buf.length - off;
      this.state = 'dead';
      this.pending = Buffer.alloc(0);
      this.fragments = [];
      return { messages, error };
    }
    buf = buf.subarray(off);
    this.pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
    return { messages };
  }

  /** Returns the offset where frames begin, or undefined while the HTTP header is incomplete. */
  private handshake(buf: Buffer): number | undefined {
    if (this.state === 'start') {
      // client "GET /path HTTP/1.1" or server "HTTP/1.1 101"; anything else: frames from mid-flow
      const head = buf.toString('latin1', 0, Math.min(5, buf.length));
      const http = ['GET /', 'GET h', 'HTTP/'].some((p) => p.startsWith(head));
      if (!http) {
        this.state = 'frames';
        return 0;
      }
      if (head.length < 5) return undefined;
      this.state = 'handshake';
    }
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > 16 * 1024) throw new DecodeError(LAYER, 'malformed', 'HTTP upgrade header too long');
      return undefined;
    }
    const firstLine = buf.toString('latin1', 0, Math.min(end, buf.indexOf(0x0a) < 0 ? end : buf.indexOf(0x0a)));
    if (firstLine.startsWith('HTTP/') && !/^HTTP\/1\.[01] 101\b/.test(firstLine)) {
      throw new DecodeError(LAYER, 'unsupported', `upgrade refused: ${firstLine.slice(0, 40)}`);
    }
    this.stats.handshakeBytes += end + 4;
    this.state = 'frames';
    return end + 4;
  }

  /** Decodes one frame at off; returns bytes consumed or 0 if incomplete. */
  private frame(buf: Buffer, off: number, out: WebSocketMessage[]): number {
    if (buf.length - off < 2) return 0;
    const b0 = buf[off]!;
    const b1 = buf[off + 1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    let p = off + 2;
    if (!(opcode in WS_OPCODES)) throw new DecodeError(LAYER, 'unknown', `opcode ${opcode}`);
    if (len === 126) {
      if (buf.length - p < 2) return 0;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (buf.length - p < 8) return 0;
      const hi = buf.readUInt32BE(p);
      if (hi !== 0) throw new DecodeError(LAYER, 'unsupported', 'frame longer than 4 GiB');
      len = buf.readUInt32BE(p + 4);
      p += 8;
    }
    if (isControlOpcode(opcode) && (!fin || len > 125)) throw new DecodeError(LAYER, 'malformed', 'fragmented or long control frame');
    if (len > this.maxMessageBytes) throw new DecodeError(LAYER, 'unsupported', `frame of ${len} bytes`);
    let mask: number[] | undefined;
    if (masked) {
      if (buf.length - p < 4) return 0;
      mask = [buf[p]!, buf[p + 1]!, buf[p + 2]!, buf[p + 3]!];
      p += 4;
    }
    if (buf.length - p < len) return 0;
    this.stats.frames++;
    const consumed = p + len - off;
    if (isControlOpcode(opcode)) {
      this.stats.controlFrames++;
      return consumed;
    }
    // RSV1 on a message's first frame = permessage-deflate (RFC 7692); RSV2/3 belong to extensions we do not know
    if ((rsv & 0x30) !== 0) throw new DecodeError(LAYER, 'unsupported', 'RSV2/RSV3 set (unknown extension)');
    if (rsv !== 0 && opcode === 0) throw new DecodeError(LAYER, 'malformed', 'RSV1 on a continuation frame');
    let payload = buf.subarray(p, p + len);
    if (mask) {
      payload = Buffer.from(payload); // unmask a copy: the input may be shared
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
    }
    if (opcode === 0) {
      if (this.fragmentType === undefined) throw new DecodeError(LAYER, 'malformed', 'continuation without a started message');
    } else {
      if (this.fragmentType !== undefined) throw new DecodeError(LAYER, 'malformed', 'new message inside a fragmented one');
      this.fragmentType = opcode === 1 ? 'text' : 'binary';
      this.fragmentCompressed = rsv !== 0;
    }
    this.fragments.push(payload);
    this.fragmentBytes += payload.length;
    if (this.fragmentBytes > this.maxMessageBytes) throw new DecodeError(LAYER, 'unsupported', 'message too large');
    if (fin) {
      const whole = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
      if (this.fragmentCompressed) out.push({ type: this.fragmentType!, payload: this.inflate(whole), compressed: true });
      else out.push({ type: this.fragmentType!, payload: whole });
      this.stats.messages++;
      this.fragments = [];
      this.fragmentType = undefined;
      this.fragmentBytes = 0;
      this.fragmentCompressed = false;
    }
    return consumed;
  }

  private inflate(data: Buffer): Buffer {
    let out: Buffer;
    try {
      out = inflateRawSync(Buffer.concat([data, DEFLATE_TAIL]), {
        finishFlush: zc.Z_SYNC_FLUSH,
        maxOutputLength: this.maxMessageBytes,
        ...(this.window.length ? { dictionary: this.window } : {}),
      });
    } catch (e) {
      throw new DecodeError(LAYER, 'malformed', `permessage-deflate: ${(e as Error).message}`);
    }
    const w = Buffer.concat([this.window, out]);
    this.window = w.length > WINDOW_BYTES ? Buffer.from(w.subarray(w.length - WINDOW_BYTES)) : w;
    return out;
  }
}
