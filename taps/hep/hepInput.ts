// The HEP input: one UDP socket and one TCP server on the same port, the
// role Homer's heplify-server plays for Kamailio/OpenSIPS `siptrace`,
// heplify and captagent. HEP v1/v2/v3 one packet per datagram on UDP, HEP3
// framed back to back on TCP and, optionally, on a TLS listener of its own
// port (HEP over TLS, optionally requiring client certificates of a CA).
// Packets become HEP items in arrival order;
// what is not HEP becomes a rejected item (a dead letter with its raw bytes).
// Nothing here throws on input. When publishing is slower than the agents,
// TCP reads pause (the agents' own buffers and TCP flow control absorb it)
// and UDP datagrams are dropped and counted, since UDP cannot slow its sender.
import { timingSafeEqual } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import { DecodeError } from '../../protocols/decode/layer.ts';
import { decodeHep } from '../../protocols/decode/hep/decode.ts';
import { HepStreamFramer } from '../../protocols/decode/hep/framer.ts';
import type { HepPacket } from '../../protocols/decode/hep/packet.ts';
import type { TapInput, TapInputSpec, TapItem } from '../pipeline/tapInput.ts';
import { CertificateReloader, type CertificateReload } from '../../protocols/tls/certificateReloader.ts';

export interface HepInputOptions {
  /** UDP and TCP port; 0 picks a free port (the same number for both). */
  port: number;
  /** Address to bind; default 127.0.0.1 (only what the user asks for is exposed). */
  host?: string;
  /** Packets per batch handed to the pipeline; a batch is also handed over every `flushMs`. */
  batchSize?: number;
  flushMs?: number;
  /** Packets waiting for the pipeline above which TCP pauses and UDP drops. */
  maxQueued?: number;
  /**
   * HEP3 authentication key (chunk 0x000e) every packet must carry, as agents
   * send it (heplify -hp, siptrace's auth key); absent: not checked.
   */
  authKey?: string;
  /** HEP over TLS on a port of its own: the same HEP3 framing as TCP inside the TLS stream. Absent: no TLS listener. */
  tls?: HepTlsOptions;
  /** First packet number: event ids are `hep:hep:<captureId>:<packet>:<index>:<role>`. Default: start time in µs, so ids of a restarted collector do not repeat earlier ones. */
  firstPacket?: number;
}

/** PEM contents, not paths (config/hepTlsFiles.ts reads the files). */
export interface HepTlsOptions {
  /** 0 picks a free port. */
  port: number;
  cert: Buffer | string;
  key: Buffer | string;
  /** Require a client certificate signed by one of these CAs (mutual TLS). Absent: none asked. */
  clientCa?: Buffer | string;
  /** A connection that has not finished its handshake by then is closed and counted (`timeout`). Default 10 s. */
  handshakeTimeoutMs?: number;
  /** The files the PEMs came from: looked at every `reloadIntervalMs` (and on SIGHUP), a renewed pair taken without a restart (protocols/tls/certificateReloader.ts). */
  readonly reload?: CertificateReload;
}

export interface HepInputStats {
  /** HEP packets received (UDP datagrams + packets framed out of TCP and TLS). */
  packets: number;
  udpPackets: number;
  tcpPackets: number;
  /** Packets framed out of TLS connections (not in tcpPackets). */
  tlsPackets: number;
  /** Stream bytes read, TCP and TLS (decrypted). */
  tcpBytes: number;
  /** UDP datagrams dropped unread: `window-full` (Kafka acks behind by maxInFlight records), `queue-full` (maxQueued packets waiting), `stopped`. */
  udpDropped: Record<string, number>;
  /** Plain TCP connections accepted. */
  tcpConnections: number;
  /** TLS connections that completed their handshake. */
  tlsConnections: number;
  /** Stream connections open now, TCP and TLS. */
  tcpOpen: number;
  /**
   * TLS connections refused at the handshake, by reason: `not-tls` (e.g. plain HEP to the TLS port),
   * `no-client-certificate`, `untrusted-client-certificate`, `timeout`, `reset`, `handshake` (anything else).
   */
  tlsRefused: Record<string, number>;
  /** TCP connections closed because their stream was not HEP3 framing. */
  tcpClosedForGarbage: number;
  /** Times a TCP connection was paused for back-pressure. */
  tcpPauses: number;
  /** Packets received and not yet taken by the pipeline. */
  queued: number;
  /** Socket-level trouble (e.g. EMFILE on accept), reported, not fatal. */
  socketError: string | null;
  /** Packets dropped for their authentication key, when one is required: `missing`, `wrong`, `undecodable` (no key to show). */
  unauthenticated: Record<string, number>;
  /** Packets decoded (and authenticated) by capture agent id (HEP chunk 0x000c; `none` without one); past MAX_AGENTS ids, `other`. */
  packetsByAgent: Record<string, number>;
}

/** Distinct agent ids counted apart: a metric label must stay bounded whatever senders claim. */
const MAX_AGENTS = 256;

const MAX_DEAD_RAW = 65_535;

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** A bounded label for a failed TLS handshake (a metric label: never the raw error text). */
function tlsRefusal(err: unknown, sock: tls.TLSSocket): string {
  // Node checks the chain of a certificate the client did send after OpenSSL's handshake and only
  // then closes (the error is a bare ECONNRESET): its verdict is on the socket.
  if (sock.authorizationError) return 'untrusted-client-certificate';
  const code = String((err as { code?: unknown }).code ?? '');
  const message = String((err as { message?: unknown }).message ?? '');
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE/i.test(code) || /peer did not return a certificate/i.test(message)) return 'no-client-certificate';
  if (/CERTIFICATE_VERIFY_FAILED|UNKNOWN_CA|BAD_CERTIFICATE|CERT_/i.test(code) || /certificate verify failed/i.test(message))
    return 'untrusted-client-certificate';
  if (/WRONG_VERSION_NUMBER|HTTP_REQUEST|HTTPS_PROXY_REQUEST|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LENGTH_MISMATCH|UNSUPPORTED_PROTOCOL/i.test(code))
    return 'not-tls';
  if (/wrong version number|http request|unknown protocol|packet length too long/i.test(message)) return 'not-tls';
  return 'handshake';
}

/** Why a packet's key does not match the required one; undefined when it does (compared in constant time). */
function keyProblem(required: Buffer, given: string | undefined): 'missing' | 'wrong' | undefined {
  if (given === undefined) return 'missing';
  const g = Buffer.from(given, 'utf8');
  return g.length === required.length && timingSafeEqual(g, required) ? undefined : 'wrong';
}

export class HepInput implements TapInput {
  readonly name = 'hep';
  readonly live = true;
  readonly maxDeadLetterBytes = MAX_DEAD_RAW;
  readonly host: string;
  port = 0;
  readonly batches: AsyncIterable<TapItem[]>;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly maxQueued: number;
  private readonly counters = {
    packets: 0,
    udpPackets: 0,
    tcpPackets: 0,
    tlsPackets: 0,
    tcpBytes: 0,
    tcpConnections: 0,
    tlsConnections: 0,
    tcpClosedForGarbage: 0,
    tcpPauses: 0,
  };
  private readonly tlsRefused: Record<string, number> = Object.create(null);
  /** The TLS listener's port; 0 without one. */
  tlsPort = 0;
  private readonly udpDropped: Record<string, number> = Object.create(null);
  private readonly unauthenticated: Record<string, number> = Object.create(null);
  private readonly byAgent: Record<string, number> = Object.create(null);
  private agents = 0;
  private readonly authKey: Buffer | undefined;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private tlsServer: tls.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly paused = new Set<net.Socket>();
  private queue: TapItem[] = [];
  /** A batch is due: full, or `flushMs` passed since its first packet. */
  private due = false;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** True while a publish call waits: it only does when the in-flight window is full. */
  private blocked = false;
  private stopped = false;
  private failed = false;
  private socketError: string | undefined;
  private nextFrame: number;

  constructor(private readonly o: HepInputOptions) {
    this.host = o.host ?? '127.0.0.1';
    this.batchSize = o.batchSize ?? 500;
    this.flushMs = o.flushMs ?? 50;
    this.maxQueued = o.maxQueued ?? 10_000;
    this.nextFrame = o.firstPacket ?? Date.now() * 1000;
    this.authKey = o.authKey !== undefined ? Buffer.from(o.authKey, 'utf8') : undefined;
    this.batches = this.handOver();
  }

  get stats(): HepInputStats {
    return {
      ...this.counters,
      udpDropped: { ...this.udpDropped },
      tlsRefused: { ...this.tlsRefused },
      unauthenticated: { ...this.unauthenticated },
      packetsByAgent: { ...this.byAgent },
      tcpOpen: this.sockets.size,
      queued: this.queue.length,
      socketError: this.socketError ?? null,
    };
  }

  /** The kernel's UDP receive buffer: datagrams beyond it are dropped before we see them (Udp RcvbufErrors in /proc/net/snmp). */
  get udpReceiveBufferBytes(): number {
    try {
      return this.udp?.getRecvBufferSize() ?? 0;
    } catch {
      return 0;
    }
  }

  /** Binds UDP and TCP on `host:port`, and the TLS listener when configured. */
  async open(): Promise<void> {
    await this.openPlain();
    if (!this.o.tls) return;
    try {
      await this.openTls(this.o.tls);
    } catch (err) {
      // Half a collector would look healthy while TLS agents are refused: undo the plain listeners too.
      await this.closeListeners();
      throw err;
    }
  }

  private async openTls(o: HepTlsOptions): Promise<void> {
    const mutual = o.clientCa !== undefined;
    const server = tls.createServer({
      cert: o.cert,
      key: o.key,
      minVersion: 'TLSv1.2',
      handshakeTimeout: o.handshakeTimeoutMs ?? 10_000,
      ...(mutual ? { ca: o.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error) => reject(new Error(`cannot listen for HEP on TLS ${this.host}:${o.port}: ${err.message}`));
      server.once('error', failed);
      server.listen({ host: this.host, port: o.port }, () => {
        server.off('error', failed);
        resolve();
      });
    });
    server.on('error', (err) => (this.socketError = `tls: ${err.message}`));
    server.on('secureConnection', (sock) => this.onConnection(sock, 'tls'));
    if (o.reload) new CertificateReloader(server, o.reload.files, { what: `HEP TLS ${this.host}:${o.port}`, intervalMs: o.reload.intervalMs });
    // Refused before any byte reaches the framer: a plain-TCP client, no or an untrusted certificate. Counted, never fatal.
    server.on('tlsClientError', (err, sock) => {
      const why = tlsRefusal(err, sock);
      this.tlsRefused[why] = (this.tlsRefused[why] ?? 0) + 1;
      sock.destroy();
    });
    this.tlsServer = server;
    this.tlsPort = (server.address() as net.AddressInfo).port;
  }

  private async openPlain(): Promise<void> {
    const { family } = await lookup(this.host);
    // Port 0: take a free TCP port, then the same number for UDP; another
    // process may hold that UDP port, so try a few times.
    for (let attempt = 0; ; attempt++) {
      const tcp = net.createServer((sock) => this.onConnection(sock));
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', (err) => reject(new Error(`cannot listen for HEP on TCP ${this.host}:${this.o.port}: ${err.message}`)));
        tcp.listen({ host: this.host, port: this.o.port }, () => {
          tcp.removeAllListeners('error');
          resolve();
        });
      });
      const port = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind({ address: this.host, port, exclusive: true }, () => {
            udp.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        udp.close();
        await new Promise<void>((r) => tcp.close(() => r()));
        if (this.o.port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
        throw new Error(`cannot listen for HEP on UDP ${this.host}:${port}: ${(err as Error).message}`, { cause: err });
      }
      // Socket-level trouble (e.g. EMFILE on accept) is reported, not fatal: the other transport and connections go on.
      tcp.on('error', (err) => (this.socketError = `tcp: ${err.message}`));
      udp.on('error', (err) => (this.socketError = `udp: ${err.message}`));
      udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
      this.tcp = tcp;
      this.udp = udp;
      this.port = port;
      return;
    }
  }

  // ---- input ------------------------------------------------------------

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.stopped || this.failed) return void this.drop('stopped');
    if (this.blocked) return void this.drop('window-full');
    if (this.queue.length >= this.maxQueued) return void this.drop('queue-full');
    this.counters.udpPackets++;
    this.packet(msg, 'udp', `${rinfo.address}:${rinfo.port}`);
  }

  private drop(why: string): void {
    this.udpDropped[why] = (this.udpDropped[why] ?? 0) + 1;
  }

  /** A plain TCP or a handshaken TLS connection: both carry HEP3 packets back to back. */
  private onConnection(sock: net.Socket, transport: 'tcp' | 'tls' = 'tcp'): void {
    if (this.stopped || this.failed) return void sock.destroy();
    if (transport === 'tls') this.counters.tlsConnections++;
    else this.counters.tcpConnections++;
    this.sockets.add(sock);
    const peer = `${sock.remoteAddress}:${sock.remotePort}`;
    const framer = new HepStreamFramer();
    // The bytes the framer holds back (a packet split across reads), so a
    // connection that ends mid-packet can dead-letter them.
    let tail = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      if (this.stopped) return;
      this.counters.tcpBytes += chunk.length;
      const resyncs = framer.stats.resyncs;
      const seen = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      for (const p of framer.push(chunk)) {
        if (transport === 'tls') this.counters.tlsPackets++;
        else this.counters.tcpPackets++;
        this.packet(p, transport, peer);
      }
      tail = framer.pendingBytes ? Buffer.from(seen.subarray(seen.length - framer.pendingBytes)) : Buffer.alloc(0);
      if (framer.stats.resyncs !== resyncs) {
        // Not HEP3 framing (or lost sync): what follows cannot be trusted to
        // be packet boundaries, so this agent is cut off; others go on.
        this.counters.tcpClosedForGarbage++;
        this.reject(
          'tcp',
          'garbage',
          `stream from ${peer} is not HEP3 framing (${framer.stats.garbageBytes} bytes skipped); connection closed`,
          seen,
          `hep:${transport}:${peer}`,
          peer,
          transport,
        );
        tail = Buffer.alloc(0);
        sock.destroy();
        return;
      }
      if (this.blocked || this.queue.length >= this.maxQueued) this.pause(sock);
    });
    sock.on('end', () => {
      if (tail.length)
        this.reject(
          'hep',
          'truncated',
          `connection from ${peer} ended inside a HEP3 packet (${tail.length} bytes)`,
          tail,
          `hep:${transport}:${peer}`,
          peer,
          transport,
        );
      tail = Buffer.alloc(0);
    });
    sock.on('error', () => {}); // resets by agents are routine; 'close' follows
    sock.on('close', () => {
      this.sockets.delete(sock);
      this.paused.delete(sock);
    });
  }

  private pause(sock: net.Socket): void {
    if (this.paused.has(sock)) return;
    this.paused.add(sock);
    this.counters.tcpPauses++;
    sock.pause();
  }

  private maybeResume(): void {
    if (this.paused.size === 0 || this.blocked || this.queue.length >= this.maxQueued / 2) return;
    for (const s of this.paused) s.resume();
    this.paused.clear();
  }

  /** One HEP packet, from either transport. Never throws. */
  private packet(raw: Buffer, transport: 'udp' | 'tcp' | 'tls', peer: string): void {
    this.counters.packets++;
    const number = this.nextFrame++;
    let h: HepPacket;
    try {
      h = decodeHep(raw);
    } catch (err) {
      if (this.authKey) {
        // With a key required, a packet that cannot show one is nobody's bad input either.
        this.unauthenticated['undecodable'] = (this.unauthenticated['undecodable'] ?? 0) + 1;
        return;
      }
      const e = err instanceof DecodeError ? err : new DecodeError('hep', 'malformed', asError(err).message);
      this.reject(e.layer, e.reason, e.message, raw, `hep:${transport}:${peer}#${number}`, peer, transport);
      return;
    }
    const refused = this.authKey && keyProblem(this.authKey, h.authKey);
    if (refused) {
      // Counted, not dead-lettered: an unauthenticated sender is nobody's bad input, and
      // dead-lettering its bytes would let anyone who reaches the port fill that topic.
      this.unauthenticated[refused] = (this.unauthenticated[refused] ?? 0) + 1;
      return;
    }
    this.countAgent(h.captureId === undefined ? 'none' : String(h.captureId));
    this.enqueue({ kind: 'hep', packet: h, number, capture: `hep:${h.captureId ?? 0}`, context: { peer, transport } });
  }

  private countAgent(id: string): void {
    if (this.byAgent[id] === undefined) {
      if (this.agents >= MAX_AGENTS) id = 'other';
      else this.agents++;
    }
    this.byAgent[id] = (this.byAgent[id] ?? 0) + 1;
  }

  private reject(layer: string, reason: string, message: string, raw: Buffer, origin: string, peer: string, transport: string): void {
    this.enqueue({ kind: 'rejected', layer, reason, message, raw, origin, context: { tap: 'hep', capture: 'hep', peer, transport }, time: Date.now() });
  }

  // ---- hand-over to the pipeline ------------------------------------------

  private enqueue(item: TapItem): void {
    this.queue.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return; // close() hands over the rest itself
    if (this.queue.length >= this.batchSize) return void this.markDue();
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.markDue();
    }, this.flushMs);
  }

  private markDue(): void {
    this.due = true;
    this.wake?.();
    this.wake = undefined;
  }

  private async *handOver(): AsyncGenerator<TapItem[]> {
    for (;;) {
      while (!(this.due && this.queue.length) && !this.stopped && !this.failed) await new Promise<void>((r) => (this.wake = r));
      if (this.failed || this.queue.length === 0) return;
      const batch = this.queue.splice(0, this.batchSize);
      this.due = false;
      // Packets that arrived while the last batch was published get their own timer.
      if (this.queue.length) this.schedule();
      this.maybeResume();
      yield batch;
    }
  }

  publisherBlocked(blocked: boolean): void {
    this.blocked = blocked;
    if (!blocked) this.maybeResume();
  }

  /** The pipeline failed (Kafka gone past its delivery timeout): stop taking input. */
  fail(): void {
    this.failed = true;
    // Readers would otherwise stay paused forever: close them (agents reconnect).
    for (const s of this.sockets) s.destroy();
    this.markDue();
  }

  private async closeListeners(): Promise<void> {
    const close = (server: net.Server | undefined) => new Promise<void>((r) => (server?.listening ? server.close(() => r()) : r()));
    const udp = this.udp;
    this.udp = undefined; // closing a dgram socket twice throws
    await Promise.all([close(this.tcp), close(this.tlsServer), new Promise<void>((r) => (udp ? udp.close(() => r()) : r()))]);
  }

  /** Stops listening; `batches` ends once the packets received are handed over. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    await this.closeListeners();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.markDue();
  }
}

/** `presence tap hep`: the input's settings as the CLI offers them. */
export const hepInputSpec: TapInputSpec<Pick<HepInputOptions, 'port' | 'host'>> = {
  name: 'hep',
  summary: 'HEP collector (Homer encapsulation, as sent by Kamailio/OpenSIPS siptrace, heplify, captagent): UDP and TCP on one port',
  fields: {
    port: { description: 'UDP and TCP port to listen on (9060 is the usual HEP port)' },
    host: { description: 'address to bind; 0.0.0.0 or :: only if agents on other hosts must reach it', default: '127.0.0.1' },
  },
  create: (config) => new HepInput(config),
};
