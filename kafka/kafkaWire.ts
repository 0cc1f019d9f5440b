// A minimal Kafka wire client for the few requests neither kafkajs nor
// node-rdkafka offers: the KIP-848 group APIs (ConsumerGroupDescribe,
// ConsumerGroupHeartbeat on behalf of a departed static member) and
// IncrementalAlterConfigs on a GROUP resource. Flexible (compact) encodings
// only, one request per connection, bounded by a timeout. It speaks TLS
// (SSL listeners) but not SASL: against a SASL listener it refuses at once
// with WireSaslUnsupported, and its callers degrade (README, Security: Kafka).
import net from 'node:net';
import tls from 'node:tls';
import { clientSecurity, tlsOptions } from './kafkaSecurity.ts';

/** The wire client cannot authenticate with SASL; what depends on it names what is lost. */
export class WireSaslUnsupported extends Error {
  constructor(protocol: string) {
    super(
      `the Kafka wire client (KIP-848 group describe/leave, group configs) does not speak SASL; security protocol ${protocol} needs SSL or PLAINTEXT for it`,
    );
    this.name = 'WireSaslUnsupported';
  }
}

export class WireWriter {
  private readonly parts: Buffer[] = [];

  int8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    return this.push(b);
  }
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    return this.push(b);
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return this.push(b);
  }
  uvarint(v: number): this {
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
    return this.push(Buffer.from(out));
  }
  /** Compact nullable string: length + 1 as an unsigned varint, 0 for null. */
  compactString(v: string | null): this {
    if (v === null) return this.uvarint(0);
    const b = Buffer.from(v, 'utf8');
    return this.uvarint(b.length + 1).push(b);
  }
  /** Classic nullable string (int16 length): only the request header's client id. */
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const b = Buffer.from(v, 'utf8');
    return this.int16(b.length).push(b);
  }
  /** Compact nullable array. */
  array<T>(items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.uvarint(0);
    this.uvarint(items.length + 1);
    for (const it of items) each(this, it);
    return this;
  }
  /** No tagged fields. */
  tags(): this {
    return this.uvarint(0);
  }
  push(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class WireReader {
  private pos = 0;
  constructor(private readonly b: Buffer) {}

  int8(): number {
    return this.b.readInt8(this.take(1));
  }
  int16(): number {
    return this.b.readInt16BE(this.take(2));
  }
  int32(): number {
    return this.b.readInt32BE(this.take(4));
  }
  uvarint(): number {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.b.readUInt8(this.take(1));
      v += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return v;
      if (shift > 28) throw new Error('varint too long');
    }
  }
  compactString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    const at = this.take(n - 1);
    return this.b.toString('utf8', at, at + n - 1);
  }
  uuid(): Buffer {
    const at = this.take(16);
    return this.b.subarray(at, at + 16);
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  array<T>(each: (r: this) => T): T[] {
    const n = this.uvarint();
    const out: T[] = [];
    for (let i = 0; i < n - 1; i++) out.push(each(this));
    return out;
  }
  /** Skips tagged fields (none of them are read). */
  tags(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.take(this.uvarint());
    }
  }
  private take(n: number): number {
    if (this.pos + n > this.b.length) throw new Error(`truncated Kafka response (wanted ${n} bytes at ${this.pos} of ${this.b.length})`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
}

let correlation = 1;

/**
 * Sends one flexible-version request (header v2) to host:port and returns the
 * response body after its header (v1). Rejects on a connection error or after timeoutMs.
 */
export function wireRequest(host: string, port: number, apiKey: number, apiVersion: number, body: Buffer, timeoutMs = 10_000): Promise<WireReader> {
  const id = correlation++ & 0x7fffffff;
  const header = new WireWriter().int16(apiKey).int16(apiVersion).int32(id).string('presence-group-admin').tags().bytes();
  const frame = new WireWriter()
    .int32(header.length + body.length)
    .push(header)
    .push(body)
    .bytes();
  const security = clientSecurity();
  if (security.protocol.startsWith('SASL_')) return Promise.reject(new WireSaslUnsupported(security.protocol));
  const tlsOpts = tlsOptions(security);
  return new Promise((resolve, reject) => {
    const sock = tlsOpts ? tls.connect({ ...tlsOpts, host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    let got = Buffer.alloc(0);
    const fail = (e: Error) => {
      sock.destroy();
      reject(e);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`Kafka at ${host}:${port} did not answer API ${apiKey} v${apiVersion} within ${timeoutMs} ms`)));
    sock.once('error', (e) => fail(new Error(`Kafka at ${host}:${port}: ${e.message}`)));
    sock.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 4 || got.length < 4 + got.readInt32BE(0)) return;
      sock.destroy();
      const r = new WireReader(got.subarray(4, 4 + got.readInt32BE(0)));
      if (r.int32() !== id) return reject(new Error(`Kafka at ${host}:${port} answered another request`));
      r.tags();
      resolve(r);
    });
    sock.once(tlsOpts ? 'secureConnect' : 'connect', () => sock.write(frame));
  });
}
