// A minimal Kafka wire client for the few requests neither kafkajs nor
// node-rdkafka offers: the KIP-848 group APIs (ConsumerGroupDescribe,
// ConsumerGroupHeartbeat on behalf of a departed static member) and
// IncrementalAlterConfigs on a GROUP resource. Flexible (compact) encodings
// only, one request per connection, bounded by a timeout. It speaks TLS (SSL
// listeners), SASL SCRAM-SHA-256/512 (kafkaScram.ts), SASL PLAIN (RFC 4616)
// and OAUTHBEARER (RFC 7628, tokens from oauthTokens.ts) with the same
// settings as every other client.
import net from 'node:net';
import tls from 'node:tls';
import type { KafkaSecurity } from '../config/settings.ts';
import { clientSecurity, tlsOptions } from './kafkaSecurity.ts';
import { ScramClient } from './kafkaScram.ts';
import { tokenSourceFor } from './oauthTokens.ts';

/** A SASL mechanism the wire client cannot speak; what depends on it names what is lost. */
export class WireSaslUnsupported extends Error {
  constructor(mechanism: string) {
    super(`the Kafka wire client (KIP-848 group describe/leave, group configs) speaks SASL SCRAM-SHA-256/512, PLAIN and OAUTHBEARER only, not ${mechanism}`);
    this.name = 'WireSaslUnsupported';
  }
}

/** The broker refused the SASL credentials (or the mechanism): not retriable, a configuration error. */
export class WireAuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireAuthenticationError';
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
  /** Compact bytes: length + 1 as an unsigned varint. */
  compactBytes(v: Buffer): this {
    return this.uvarint(v.length + 1).push(v);
  }
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
  int64(): bigint {
    return this.b.readBigInt64BE(this.take(8));
  }
  /** Classic nullable string (int16 length). */
  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    const at = this.take(n);
    return this.b.toString('utf8', at, at + n);
  }
  /** Compact nullable bytes. */
  compactBytes(): Buffer | null {
    const n = this.uvarint();
    if (n === 0) return null;
    const at = this.take(n - 1);
    return this.b.subarray(at, at + n - 1);
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

const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

/**
 * One connection to a broker: requests are sent one after another, each
 * answered before the next (all this client needs), and every wait is bounded
 * by the socket's idle timeout.
 */
class WireConnection {
  private got = Buffer.alloc(0);
  private waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private failed: Error | undefined;

  private constructor(
    private readonly sock: net.Socket,
    readonly where: string,
  ) {
    sock.on('data', (chunk: Buffer) => {
      this.got = Buffer.concat([this.got, chunk]);
      this.deliver();
    });
  }

  static open(host: string, port: number, security: KafkaSecurity, timeoutMs: number): Promise<WireConnection> {
    const tlsOpts = tlsOptions(security);
    const where = `Kafka at ${host}:${port}`;
    return new Promise((resolve, reject) => {
      const sock = tlsOpts ? tls.connect({ ...tlsOpts, host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
      let conn: WireConnection | undefined;
      const fail = (e: Error) => {
        sock.destroy();
        if (conn) conn.fail(e);
        else reject(e);
      };
      sock.setTimeout(timeoutMs, () => fail(new Error(`${where} did not answer within ${timeoutMs} ms`)));
      sock.once('error', (e) => fail(new Error(`${where}: ${e.message}`)));
      // A broker that drops us (e.g. after a failed authentication) must not leave a request waiting.
      sock.once('close', () => fail(new Error(`${where} closed the connection`)));
      sock.once(tlsOpts ? 'secureConnect' : 'connect', () => {
        conn = new WireConnection(sock, where);
        resolve(conn);
      });
    });
  }

  /** Sends a request; resolves with the response after its correlation id (header tags, if any, are the caller's). */
  async request(apiKey: number, apiVersion: number, body: Buffer, flexibleHeader: boolean): Promise<WireReader> {
    const id = correlation++ & 0x7fffffff;
    const h = new WireWriter().int16(apiKey).int16(apiVersion).int32(id).string('presence-group-admin');
    const header = (flexibleHeader ? h.tags() : h).bytes();
    const frame = new WireWriter()
      .int32(header.length + body.length)
      .push(header)
      .push(body)
      .bytes();
    if (this.failed) throw this.failed;
    const response = new Promise<Buffer>((resolve, reject) => (this.waiting = { resolve, reject }));
    this.sock.write(frame);
    const r = new WireReader(await response);
    if (r.int32() !== id) throw new Error(`${this.where} answered another request`);
    return r;
  }

  close(): void {
    this.sock.destroy();
  }

  private fail(e: Error): void {
    this.failed ??= e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failed);
  }

  private deliver(): void {
    if (this.got.length < 4 || this.got.length < 4 + this.got.readInt32BE(0)) return;
    const n = this.got.readInt32BE(0);
    const frame = this.got.subarray(4, 4 + n);
    this.got = this.got.subarray(4 + n);
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(frame);
  }

  /** SaslHandshake v1 then SaslAuthenticate v2 rounds of SCRAM or the one round of PLAIN or OAUTHBEARER (KIP-152, KIP-84, RFC 4616, RFC 7628). */
  async authenticate(security: KafkaSecurity): Promise<void> {
    const mechanism = security.saslMechanism;
    if (mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512' && mechanism !== 'PLAIN' && mechanism !== 'OAUTHBEARER')
      throw new WireSaslUnsupported(mechanism);
    // Fetched before the handshake: a refused client secret is named as such, not as a broker refusal.
    const bearer = mechanism === 'OAUTHBEARER' ? await tokenSourceFor(security).token() : undefined;
    // Handshake v1 is not a flexible version: classic string, header v1 out, header v0 back.
    const hs = await this.request(SASL_HANDSHAKE, 1, new WireWriter().string(mechanism).bytes(), false);
    const code = hs.int16();
    if (code !== 0) {
      const offered: string[] = [];
      for (let i = hs.int32(); i > 0; i--) offered.push(hs.string() ?? '');
      throw new WireAuthenticationError(`${this.where} does not offer SASL ${mechanism} (error ${code}; it offers ${offered.join(', ') || 'none'})`);
    }
    if (mechanism === 'PLAIN') {
      // authzid NUL authcid NUL passwd with an empty authzid: act as the authenticated user itself, as Kafka's clients do.
      const token = Buffer.concat([
        Buffer.from([0]),
        Buffer.from(security.username ?? '', 'utf8'),
        Buffer.from([0]),
        Buffer.from(security.password ?? '', 'utf8'),
      ]);
      await this.saslRound(token, mechanism, security.username);
      return;
    }
    if (mechanism === 'OAUTHBEARER') {
      // RFC 7628 §3.1 initial client response: GS2 header without authzid, then kvsep-separated auth, ending kvsep kvsep.
      const who = bearer?.principal || security.oauthbearer['sasl.oauthbearer.client.id'];
      const challenge = await this.saslRound(Buffer.from(`n,,\x01auth=Bearer ${bearer?.value ?? ''}\x01\x01`, 'utf8'), mechanism, who);
      if (challenge.length === 0) return;
      // RFC 7628 §3.2.2: a refused token comes back as an error challenge ({"status":"invalid_token"}) that the
      // client acknowledges with a lone kvsep; the broker then fails the exchange. Never taken as success.
      const status = challenge.toString('utf8');
      // The acknowledgement's answer is the broker's failure (a WireAuthenticationError naming it).
      await this.saslRound(Buffer.from('\x01', 'utf8'), mechanism, who);
      throw new WireAuthenticationError(`${this.where} refused SASL ${mechanism} authentication of user ${who ?? ''}: ${status}`);
    }
    const scram = new ScramClient(mechanism, security.username ?? '', security.password ?? '');
    const serverFirst = await this.saslRound(Buffer.from(scram.first(), 'utf8'), mechanism, security.username);
    const serverFinal = await this.saslRound(Buffer.from(scram.final(serverFirst.toString('utf8')), 'utf8'), mechanism, security.username);
    scram.verify(serverFinal.toString('utf8'));
  }

  private async saslRound(token: Buffer, mechanism: string, user: string | undefined): Promise<Buffer> {
    let r: WireReader;
    try {
      r = await this.request(SASL_AUTHENTICATE, 2, new WireWriter().compactBytes(token).tags().bytes(), true);
    } catch (err) {
      // Some brokers close the connection instead of answering a bad proof.
      throw new WireAuthenticationError(`${this.where} refused SASL ${mechanism} authentication of user ${user ?? ''}: ${(err as Error).message}`);
    }
    r.tags();
    const code = r.int16();
    const message = r.compactString();
    const bytes = r.compactBytes();
    if (code !== 0)
      throw new WireAuthenticationError(`${this.where} refused SASL ${mechanism} authentication of user ${user ?? ''}: ${message ?? `error ${code}`}`);
    return bytes ?? Buffer.alloc(0);
  }
}

/**
 * Sends one flexible-version request (header v2) to host:port and returns the
 * response body after its header (v1), authenticating first on a SASL
 * listener. Rejects on a connection or authentication error, or after timeoutMs
 * without an answer.
 */
export async function wireRequest(host: string, port: number, apiKey: number, apiVersion: number, body: Buffer, timeoutMs = 10_000): Promise<WireReader> {
  const security = clientSecurity();
  const conn = await WireConnection.open(host, port, security, timeoutMs);
  try {
    if (security.protocol.startsWith('SASL_')) await conn.authenticate(security);
    const r = await conn.request(apiKey, apiVersion, body, true).catch((err: Error) => {
      throw new Error(`${err.message} (API ${apiKey} v${apiVersion})`);
    });
    r.tags();
    return r;
  } finally {
    conn.close();
  }
}
