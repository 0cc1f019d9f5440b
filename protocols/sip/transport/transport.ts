// SIP transport layer (RFC 3261 §18): UDP and TCP listening on the same
// host:port, sending to a target, delivering parsed incoming messages with
// their source. TCP connections are reused per remote host:port in both
// directions (a response to a request we sent arrives on our connection, and
// we answer a client on the connection it opened) and close when idle.
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
import { endpointKey, normaliseAddress, type MessageSource, type SendOptions, type TransportTarget } from './types.ts';

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
  readonly onMessage?: SipMessageHandler;
}

const DEFAULT_TCP_IDLE_MS = 120_000;
const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
const EPHEMERAL_BIND_ATTEMPTS = 20;

function listenTcp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
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
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

export class SipTransport {
  readonly stats: SipTransportStats = emptyTransportStats();
  private handler: SipMessageHandler | undefined;
  private readonly connections = new Map<string, TcpConnection>();
  private closing = false;
  private boundPort = 0;

  private constructor(
    readonly host: string,
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    private readonly idleTimeoutMs: number,
    private readonly maxMessageBytes: number,
  ) {
    // Handlers go on before binding, so nothing that arrives early goes unhandled.
    udp.on('message', (datagram, rinfo) => this.receive(datagram, { transport: 'udp', address: normaliseAddress(rinfo.address), port: rinfo.port }));
    udp.on('error', () => {}); // ICMP errors etc. on an unconnected socket are not fatal
    tcp.on('error', () => {}); // accept() failures (EMFILE…) must not crash; the server keeps listening
    tcp.on('connection', (socket) => {
      this.stats.tcpConnectionsAccepted++;
      this.adopt(socket, { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
    });
  }

  /** The port both UDP and TCP listen on. */
  get port(): number {
    return this.boundPort;
  }

  /** Binds UDP and TCP on host:port and starts receiving. */
  static async listen(options: SipTransportOptions): Promise<SipTransport> {
    const wanted = options.port ?? 0;
    const attempts = wanted === 0 ? EPHEMERAL_BIND_ATTEMPTS : 1;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      const tcp = createServer();
      const udp = createSocket({ type: options.host.includes(':') ? 'udp6' : 'udp4' });
      const t = new SipTransport(options.host, udp, tcp, options.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_MS, options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
      if (options.onMessage) t.onMessage(options.onMessage);
      try {
        t.boundPort = await listenTcp(tcp, options.host, wanted);
        await bindUdp(udp, options.host, t.boundPort); // the TCP port may be taken on UDP: try another
        return t;
      } catch (err) {
        lastError = err;
        tcp.close();
        try {
          udp.close();
        } catch {
          // not bound: nothing to close
        }
      }
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

  hasConnection(host: string, port: number): boolean {
    return this.connections.get(endpointKey(host, port))?.isOpen ?? false;
  }

  async send(message: OutgoingMessage | Buffer, target: TransportTarget, options: SendOptions = {}): Promise<void> {
    if (this.closing) throw new Error('SIP transport is closed');
    const bytes = Buffer.isBuffer(message) ? message : serialize(message);
    if (target.transport === 'udp') {
      await new Promise<void>((resolve, reject) => this.udp.send(bytes, target.port, target.host, (err) => (err ? reject(err) : resolve())));
      this.stats.sent.udp++;
      return;
    }
    let conn = this.connections.get(endpointKey(target.host, target.port));
    if (!conn?.isOpen) {
      if (options.reuseOnly) throw new Error(`no TCP connection to ${endpointKey(target.host, target.port)}`);
      conn = this.open(target);
    }
    await conn.write(bytes);
    this.stats.sent.tcp++;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const conn of this.connections.values()) conn.close();
    this.connections.clear();
    await Promise.all([new Promise<void>((resolve) => this.tcp.close(() => resolve())), new Promise<void>((resolve) => this.udp.close(() => resolve()))]);
  }

  private open(target: TransportTarget): TcpConnection {
    const socket = connect({ host: target.host, port: target.port });
    this.stats.tcpConnectionsOpened++;
    return this.adopt(socket, { host: target.host, port: target.port });
  }

  private adopt(socket: Socket, remote: { host: string; port: number }): TcpConnection {
    const conn = new TcpConnection(socket, remote, this.idleTimeoutMs, this.maxMessageBytes, {
      onMessage: (raw, source) => this.receive(raw, source),
      onClose: (c, idle) => {
        if (idle) this.stats.tcpConnectionsIdleClosed++;
        if (this.connections.get(c.key) === c) this.connections.delete(c.key);
      },
    });
    if (this.closing) conn.close();
    else this.connections.set(conn.key, conn);
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
    this.stats.received[source.transport]++;
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
    const salvaged = salvageRequest(raw);
    if (!salvaged) return;
    const vias = [stampViaValue(salvaged.identity.vias[0]!, source), ...salvaged.identity.vias.slice(1)];
    const topVia = parseVia(vias[0]!.split(',')[0]!);
    // Reason phrase text is free-form (§7.2); say what was wrong, without CR/LF.
    const why = problem.replace(/[\r\n]+/g, ' ').slice(0, 100);
    const response = buildResponseFrom({ ...salvaged.identity, vias }, 400, { reason: `Bad Request (${why})` });
    const route = responseTarget(topVia, source);
    this.stats.badRequestsAnswered++;
    this.send(response, route.primary, { reuseOnly: true }).catch(() => {
      if (route.fallback) this.send(response, route.fallback).catch(() => {});
    });
  }
}
