// Frames HEP3 packets out of a TCP stream (agents such as heplify and
// Kamailio send HEP over TCP back to back); the 16-bit total length after the
// "HEP3" magic delimits packets. Garbage is skipped to the next magic, counted.
import { isHep3 } from './decode.ts';

const MAGIC = Buffer.from('HEP3', 'latin1');

interface HepFramerStats {
  packets: number;
  garbageBytes: number;
  resyncs: number;
}

export class HepStreamFramer {
  readonly stats: HepFramerStats = { packets: 0, garbageBytes: 0, resyncs: 0 };
  private pending: Buffer = Buffer.alloc(0);

  get pendingBytes(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): Buffer[] {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let off = 0;
    while (buf.length - off >= 6) {
      if (!isHep3(buf.subarray(off, off + 6)) || buf.readUInt16BE(off + 4) < 6) {
        const next = buf.indexOf(MAGIC, off + 1);
        const to = next < 0 ? Math.max(off, buf.length - 3) : next; // keep a possible partial magic
        this.stats.garbageBytes += to - off;
        this.stats.resyncs++;
        off = to;
        if (next < 0) break;
        continue;
      }
      const total = buf.readUInt16BE(off + 4);
      if (buf.length - off < total) break;
      out.push(buf.subarray(off, off + total));
      this.stats.packets++;
      off += total;
    }
    this.pending = off >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    return out;
  }
}
