// SIP transport layer (RFC 3261 §18): UDP and TCP listening on the same
// host:port, sending to a target, delivering parsed incoming messages with
// their source. TCP connections are reused per remote host:port in both
// directions (a response to a request we sent arrives on our connection, and
// we answer a client on the connection it opened) and close when idle. TLS,
// when configured, listens on a port of its own and its connections are
// handled like TCP's (tlsTransport.ts makes the sockets).
import cluster from 'node:cluster';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { DecodeError } from '../../decode/layer.ts';
import { parseSipMessage, parseVia, type SipMessage } from '../../decode/sip/index.ts';
import { buildResponseFrom, serialize, type OutgoingMessage } from '../message/index.ts';
import { stampReceived, stampViaValue } from './received.ts';
import { responseTarget } from './responseTarget.ts';
import { salvageRequest } from './salvage.ts';
import { emptyTransportStats, type SipTransportStats } from './stats.ts';
import { TcpConnection } from './tcpConnection.ts';
import { TlsTransport, type SipTlsOptions } from './tlsTransport.ts';
import { SourceLimits, type SourceLimitOptions } from './sourceLimits.ts';
import { endpointKey, normaliseAddress, type MessageSource, type SendOptions, type StreamTransportName, type TransportTarget } from './types.ts';

export type SipMessageHandler = (message: SipMessage, source: MessageSource) => void;

interface SipTransportOptions {
  /** Address to listen on for both UDP and TCP, e.g. '127.0.0.1'. */
  readonly host: string;
  /** 0 (default) picks a free port that is free for both UDP and TCP. */
  readonly port?: number;
  /** Close a TCP connection after this long without traffic. Default 120 s. */
  readonly tcpIdleTimeoutMs?: number;
  /** Largest message accepted on a stream (bytes). Default 64 KiB. */
  readonly maxMessageBytes?: number;
  /**
   * Give up on an outgoing TCP connection not established after this long.
   * Default 5 s: a watcher behind NAT drops our SYN silently, and the OS would
   * wait minutes; the NOTIFY sink then falls back to UDP (RFC 3261 §18.1.1).
   */
  readonly tcpConnectTimeoutMs?: number;
  /** Per-source rate, TCP connection caps, message read timeout (sourceLimits.ts). Default: no rate limit, 100 connections per source, 10 000 in all, 10 s. */
  readonly limits?: SourceLimitOptions;
  /** SIP over TLS: a listener on its own port (with tls.port) and/or outgoing TLS connections. Absent: no TLS. */
  readonly tls?: SipTlsOptions;
  readonly onMessage?: SipMessageHandler;
}

const DEFAULT_TCP_IDLE_MS = 120_000;
const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
const DEFAULT_TCP_CONNECT_TIMEOUT_MS = 5_000;
const EPHEMERAL_BIND_ATTEMPTS = 20;

/**
 * A process of `presence run sip-front --workers N` (a node:cluster worker) shares its
 * primary's listening sockets, so the workers answer on one address; anywhere else a
 * listener is this process's alone.
 */
const exclusive = !cluster.isWorker;

function listenTcp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function bindUdp(socket: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind({ address: host, port, exclusive }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/** Socket buffers asked for (UDP, both directions). */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

export class SipTransport {
  readonly stats: SipTransportStats = emptyTransportStats();
  private handler: SipMessageHandler | undefined;
  private readonly connections = new Map<string, TcpConnection>();
  private readonly tlsConnections = new Map<string, TcpConnection>();
  /** Outgoing TLS connections until their server is verified: nothing is written before. */
  private readonly tlsHandshakes = new WeakMap<TcpConnection, Promise<void>>();
  private tls: TlsTransport | undefined;
  private closing = false;
  private boundPort = 0;

  private constructor(
    readonly host: string,
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    private readonly idleTimeoutMs: number,
    private readonly maxMessageBytes: number,
    private readonly connectTimeoutMs: number = DEFAULT_TCP_CONNECT_TIMEOUT_MS,
    private readonly limits: SourceLimits = new SourceLimits(),
  ) {
    // Handlers go on before binding, so nothing that arrives early goes unhandled.
    udp.on('message', (datagram, rinfo) => this.receive(datagram, { transport: 'udp', address: normaliseAddress(rinfo.address), port: rinfo.port }));
    udp.on('error', () => {}); // ICMP errors etc. on an unconnected socket are not fatal
    tcp.on('error', () => {}); // accept() failures (EMFILE…) must not crash; the server keeps listening
    tcp.on('connection', (socket) => {
      this.stats.tcpConnectionsAccepted++;
      this.accept(socket, 'tcp');
    });
  }

  /** An accepted connection (TLS: handshake done), under the same per-source and total caps for TCP and TLS. */
  private accept(socket: Socket, transport: StreamTransportName): void {
    const address = normaliseAddress(socket.remoteAddress ?? '');
    const admitted = this.limits.admitConnection(address);
    if (admitted !== 'ok') {
      this.stats.tcpConnectionsRefused[admitted] = (this.stats.tcpConnectionsRefused[admitted] ?? 0) + 1;
      socket.destroy();
      return;
    }
    socket.once('close', () => this.limits.connectionClosed(address));
    this.adopt(socket, { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, transport);
  }

  /** The port both UDP and TCP listen on. */
  get port(): number {
    return this.boundPort;
  }

  /** The TLS listener's port; 0 when there is none. */
  get tlsPort(): number {
    return this.tls?.port ?? 0;
  }

  /** Binds UDP and TCP on host:port (and TLS on its own port) and starts receiving. */
  static async listen(options: SipTransportOptions): Promise<SipTransport> {
    const wanted = options.port ?? 0;
    const attempts = wanted === 0 ? EPHEMERAL_BIND_ATTEMPTS : 1;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      const tcp = createServer();
      // A burst of requests (and their retransmissions) must not overflow the kernel's
      // default ~208 KiB receive buffer while the event loop is busy: that loss is
      // silent and costs the client a retransmission (T1) per dropped datagram.
      // The kernel caps it at net.core.rmem_max.
      const udp = createSocket({ type: options.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
      const t = new SipTransport(
        options.host,
        udp,
        tcp,
        options.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_MS,
        options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        options.tcpConnectTimeoutMs ?? DEFAULT_TCP_CONNECT_TIMEOUT_MS,
        new SourceLimits(options.limits),
      );
      if (options.onMessage) t.onMessage(options.onMessage);
      try {
        t.boundPort = await listenTcp(tcp, options.host, wanted);
        await bindUdp(udp, options.host, t.boundPort); // the TCP port may be taken on UDP: try another
      } catch (err) {
        lastError = err;
        tcp.close();
        try {
          udp.close();
        } catch {
          // not bound: nothing to close
        }
        continue;
      }
      if (options.tls) {
        try {
          t.tls = await TlsTransport.start(options.host, options.tls, t.stats, (socket) => {
            t.stats.tlsConnectionsAccepted++;
            t.accept(socket, 'tls');
          });
        } catch (err) {
          await t.close(); // a TLS port taken is the operator's to fix: not retried on another one
          throw err;
        }
      }
      return t;
    }
    throw lastError;
  }

  /** Sets the receiver of every parsed incoming message (one handler: the transaction layer). */
  onMessage(handler: SipMessageHandler): void {
    this.handler = handler;
  }

  /** Open TCP connections (both directions). */
  get tcpConnectionCount(): number {
    return this.connections.size;
  }

  /** Open TLS connections (both directions). */
  get tlsConnectionCount(): number {
    return this.tlsConnections.size;
  }

  hasConnection(host: string, port: number, transport: StreamTransportName = 'tcp'): boolean {
    return (transport === 'tls' ? this.tlsConnections : this.connections).get(endpointKey(host, port))?.isOpen ?? false;
  }

  async send(message: OutgoingMessage | Buffer, target: TransportTarget, options: SendOptions = {}): Promise<void> {
    if (this.closing) throw new Error('SIP transport is closed');
    const bytes = Buffer.isBuffer(message) ? message : serialize(message);
    if (target.transport === 'udp') {
      await new Promise<void>((resolve, reject) => this.udp.send(bytes, target.port, target.host, (err) => (err ? reject(err) : resolve())));
      this.stats.sent.udp++;
      return;
    }
    if (target.transport === 'tls' && !this.tls) throw new Error(`TLS is not configured: cannot send to ${endpointKey(target.host, target.port)} over TLS`);
    const stream = target.transport;
    let conn = (stream === 'tls' ? this.tlsConnections : this.connections).get(endpointKey(target.host, target.port));
    if (!conn?.isOpen) {
      if (options.reuseOnly) throw new Error(`no ${stream.toUpperCase()} connection to ${endpointKey(target.host, target.port)}`);
      conn = this.open(target);
    }
    await this.tlsHandshakes.get(conn);
    await conn.write(bytes);
    this.stats.sent[stream]++;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const conn of [...this.connections.values(), ...this.tlsConnections.values()]) conn.close();
    this.connections.clear();
    this.tlsConnections.clear();
    await Promise.all([
      this.tls?.close(),
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
      new Promise<void>((resolve) => this.udp.close(() => resolve())),
    ]);
  }

  private open(target: TransportTarget): TcpConnection {
    if (target.transport === 'tls' && this.tls) {
      const { socket, secured } = this.tls.connect(target, this.connectTimeoutMs);
      const conn = this.adopt(socket, { host: target.host, port: target.port }, 'tls');
      this.tlsHandshakes.set(conn, secured);
      return conn;
    }
    const socket = connect({ host: target.host, port: target.port });
    this.stats.tcpConnectionsOpened++;
    // Writes queued meanwhile fail with this error, so the sender learns it and can use UDP.
    const timer = setTimeout(() => {
      this.stats.tcpConnectTimeouts++;
      socket.destroy(new Error(`TCP connect to ${endpointKey(target.host, target.port)} timed out after ${this.connectTimeoutMs} ms`));
    }, this.connectTimeoutMs);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return this.adopt(socket, { host: target.host, port: target.port });
  }

  private adopt(socket: Socket, remote: { host: string; port: number }, transport: StreamTransportName = 'tcp'): TcpConnection {
    const connections = transport === 'tls' ? this.tlsConnections : this.connections;
    const conn = new TcpConnection(
      socket,
      remote,
      this.idleTimeoutMs,
      this.maxMessageBytes,
      {
        onMessage: (raw, source) => this.receive(raw, source),
        onFramingFailure: (c, failure) => {
          this.stats.tcpFramingClosed++;
          if (failure.reason === 'too-large') this.stats.tooLarge++;
          else this.stats.malformed['sip.framing'] = (this.stats.malformed['sip.framing'] ?? 0) + 1;
          const [status, reason] = failure.reason === 'too-large' ? [513, 'Message Too Large'] : [400, 'Bad Request (conflicting Content-Length headers)'];
          void this.answerRefusal(failure.head, c.source, status, reason).finally(() => c.end());
        },
        onSlowSender: () => void this.stats.tcpSlowClosed++,
        onClose: (c, idle) => {
          if (idle) this.stats[transport === 'tls' ? 'tlsConnectionsIdleClosed' : 'tcpConnectionsIdleClosed']++;
          if (connections.get(c.key) === c) connections.delete(c.key);
        },
      },
      this.limits.messageReadTimeoutMs,
      transport,
    );
    if (this.closing) conn.close();
    else connections.set(conn.key, conn);
    return conn;
  }

  private receive(raw: Buffer, source: MessageSource): void {
    if (this.closing) return;
    let i = 0;
    while (i < raw.length && (raw[i] === 0x0d || raw[i] === 0x0a)) i++;
    if (i === raw.length) {
      this.stats.keepAlives++;
      return;
    }
    if (!this.limits.admitMessage(source.address)) {
      this.stats.rateLimited++;
      return;
    }
    this.stats.received[source.transport]++;
    if (raw.length > this.maxMessageBytes) {
      this.stats.tooLarge++;
      void this.answerRefusal(raw, source, 513, 'Message Too Large');
      return;
    }
    let message: SipMessage;
    try {
      message = stampReceived(parseSipMessage(raw), source);
    } catch (err) {
      // The decoder throws only DecodeError; anything else is still bad input, not a crash.
      const key = err instanceof DecodeError ? `${err.layer}.${err.reason}` : 'sip.internal';
      this.stats.malformed[key] = (this.stats.malformed[key] ?? 0) + 1;
      this.answerBadRequest(raw, source, err instanceof Error ? err.message : String(err));
      return;
    }
    if (!this.handler) return;
    try {
      this.handler(message, source);
    } catch {
      this.stats.handlerErrors++;
    }
  }

  /** §8.2 / §18.3: a request we cannot parse gets 400 when we can tell where and how to answer. */
  private answerBadRequest(raw: Buffer, source: MessageSource, problem: string): void {
    // Reason phrase text is free-form (§7.2); say what was wrong, without CR/LF.
    const why = problem.replace(/[\r\n]+/g, ' ').slice(0, 100);
    void this.answerRefusal(raw, source, 400, `Bad Request (${why})`).then((answered) => {
      if (answered) this.stats.badRequestsAnswered++;
    });
  }

  /** Answers a request we will not take from the raw lines it carried; resolves false when there was nobody to answer. */
  private async answerRefusal(raw: Buffer, source: MessageSource, status: number, reason: string): Promise<boolean> {
    const salvaged = salvageRequest(raw);
    if (!salvaged) return false;
    const vias = [stampViaValue(salvaged.identity.vias[0]!, source), ...salvaged.identity.vias.slice(1)];
    const topVia = parseVia(vias[0]!.split(',')[0]!);
    const response = buildResponseFrom({ ...salvaged.identity, vias }, status, { reason });
    const route = responseTarget(topVia, source);
    await this.send(response, route.primary, { reuseOnly: true }).catch(async () => {
      if (route.fallback) await this.send(response, route.fallback).catch(() => {});
    });
    return true;
  }
}
