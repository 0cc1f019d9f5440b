// Frames SIP messages out of a stream transport (TCP, TLS plaintext, SCTP
// stream reassembled by the caller): RFC 3261 §18.3 — the header block ends
// at the first empty line and Content-Length (mandatory on streams) gives the
// body size. Handles several messages per chunk, one message over several
// chunks, CRLF keep-alives (RFC 5626 §3.5.1) and resyncs after garbage (a
// capture that starts mid-message, lost segments), counting what it skipped.
// A live server's framer is strict instead: a stream whose framing cannot be
// trusted (conflicting Content-Lengths, a message over the limit) is not
// resynced but stopped, so a request hidden in a body is never delivered.
import { looksLikeSip } from './detect.ts';
import { findHeaderEnd } from './message.ts';

interface SipFramerStats {
  messages: number;
  keepAlives: number;
  /** Bytes discarded while looking for the start of a message. */
  garbageBytes: number;
  resyncs: number;
}

interface SipStreamFramerOptions {
  /** Largest message accepted (headers + body); beyond it the header is treated as garbage. */
  maxMessageBytes?: number;
  /** Largest header block we wait for before deciding the stream is not SIP here. */
  maxHeaderBytes?: number;
  /** Stop at the first framing failure (see `failure`) instead of resyncing: for a server's own connections. */
  strict?: boolean;
}

/** Why a strict framer stopped, and the start of the offending message (enough to answer it). */
export interface SipFramingFailure {
  readonly reason: 'too-large' | 'conflicting-content-length';
  readonly head: Buffer;
}

/** Content-Length from a header block (full or compact name, any case): the first one (undefined if absent/bad), and whether another differs. */
function contentLength(buf: Buffer, start: number, end: number): { value: number | undefined; conflict: boolean } {
  let found: number | undefined | null = null;
  let p = start;
  while (p < end) {
    let eol = buf.indexOf(0x0a, p);
    if (eol < 0 || eol > end) eol = end;
    const c = buf[p]! | 0x20;
    if (c === 0x63 /* c */ || c === 0x6c /* l */) {
      const colon = buf.indexOf(0x3a, p);
      if (colon > 0 && colon < eol) {
        const name = buf.toString('latin1', p, colon).trimEnd().toLowerCase();
        if (name === 'content-length' || name === 'l') {
          const v = buf.toString('latin1', colon + 1, eol).trim();
          const n = /^\d{1,9}$/.test(v) ? Number(v) : undefined;
          if (found === null) found = n;
          else if (n !== found) return { value: found, conflict: true };
        }
      }
    }
    p = eol + 1;
  }
  return { value: found ?? undefined, conflict: false };
}

export class SipStreamFramer {
  readonly stats: SipFramerStats = { messages: 0, keepAlives: 0, garbageBytes: 0, resyncs: 0 };
  private pending: Buffer = Buffer.alloc(0);
  private readonly maxMessageBytes: number;
  private readonly maxHeaderBytes: number;
  private readonly strict: boolean;
  private failed: SipFramingFailure | undefined;

  constructor(options: SipStreamFramerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 1 << 20;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
    this.strict = options.strict ?? false;
  }

  /** Set when a strict framer stopped: nothing after it is delivered. */
  get failure(): SipFramingFailure | undefined {
    return this.failed;
  }

  /** Bytes buffered waiting for the rest of a message. */
  get pendingBytes(): number {
    return this.pending.length;
  }

  /**
   * Feeds the next in-order chunk of one flow direction; returns the complete
   * raw messages it finished (views into the input, not copies).
   */
  push(chunk: Buffer): Buffer[] {
    if (this.failed) return [];
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let off = 0;
    for (;;) {
      // keep-alives: any run of CR/LF between messages
      if (buf[off] === 0x0d || buf[off] === 0x0a) {
        const s = off;
        while (off < buf.length && (buf[off] === 0x0d || buf[off] === 0x0a)) off++;
        if (off - s > 0) this.stats.keepAlives++;
        if (off >= buf.length) break;
      }
      if (off >= buf.length) break;
      const firstNl = buf.indexOf(0x0a, off);
      if (firstNl < 0) {
        // partial first line: wait, unless it is already too long to be SIP
        if (buf.length - off > 2048) off = this.skipGarbage(buf, off, buf.length);
        break;
      }
      if (!looksLikeSip(buf.subarray(off, firstNl + 1))) {
        off = this.resync(buf, off);
        continue;
      }
      const end = findHeaderEnd(buf, off);
      if (!end) {
        if (buf.length - off > this.maxHeaderBytes) {
          if (this.strict) return this.fail(out, 'too-large', buf.subarray(off, off + this.maxHeaderBytes));
          off = this.resync(buf, off);
        } else break;
        continue;
      }
      const found = contentLength(buf, off, end.headerEnd);
      if (found.conflict && this.strict) return this.fail(out, 'conflicting-content-length', buf.subarray(off, end.bodyStart));
      const cl = found.value ?? 0;
      const total = end.bodyStart + cl - off;
      if (total > this.maxMessageBytes) {
        if (this.strict) return this.fail(out, 'too-large', buf.subarray(off, end.bodyStart));
        off = this.resync(buf, off);
        continue;
      }
      if (end.bodyStart + cl > buf.length) break; // body still incoming
      out.push(buf.subarray(off, end.bodyStart + cl));
      this.stats.messages++;
      off = end.bodyStart + cl;
    }
    this.pending = off >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    return out;
  }

  private fail(out: Buffer[], reason: SipFramingFailure['reason'], head: Buffer): Buffer[] {
    this.failed = { reason, head: Buffer.from(head) };
    this.pending = Buffer.alloc(0);
    return out;
  }

  /** Drops state, e.g. after a TCP gap reported by the reassembler. */
  reset(): void {
    if (this.pending.length) {
      this.stats.garbageBytes += this.pending.length;
      this.stats.resyncs++;
    }
    this.pending = Buffer.alloc(0);
  }

  private skipGarbage(buf: Buffer, from: number, to: number): number {
    this.stats.garbageBytes += to - from;
    this.stats.resyncs++;
    return to;
  }

  /** Skips to the next line that starts a SIP message, or to the last partial line. */
  private resync(buf: Buffer, from: number): number {
    let nl = buf.indexOf(0x0a, from);
    while (nl >= 0 && nl + 1 < buf.length) {
      const lineStart = nl + 1;
      const next = buf.indexOf(0x0a, lineStart);
      if (next < 0) {
        // partial line at the end: keep it, it may be the start of a message
        return this.skipGarbage(buf, from, lineStart);
      }
      if (looksLikeSip(buf.subarray(lineStart, next + 1))) return this.skipGarbage(buf, from, lineStart);
      nl = next;
    }
    return this.skipGarbage(buf, from, buf.length);
  }
}
