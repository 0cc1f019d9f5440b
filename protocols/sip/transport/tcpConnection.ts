// One TCP connection carrying SIP in both directions (RFC 3261 §18.3): frames
// the byte stream into messages with the decoder's SipStreamFramer and closes
// itself after a period without traffic, so idle watchers do not pin sockets.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SipStreamFramer, type SipFramingFailure } from '../../decode/sip/index.ts';
import { endpointKey, normaliseAddress, type MessageSource, type StreamTransportName } from './types.ts';

interface TcpConnectionEvents {
  onMessage(raw: Buffer, source: MessageSource): void;
  /** The stream's framing is lost: answer what can be answered, then the connection is closed. */
  onFramingFailure(conn: TcpConnection, failure: SipFramingFailure): void;
  /** A message did not arrive whole within the read timeout; the connection is being closed. */
  onSlowSender?(conn: TcpConnection): void;
  onClose(conn: TcpConnection, idle: boolean): void;
}

/** The names a verified client certificate certifies: its DNS subjectAltNames, else its CN; undefined unless verified. */
function verifiedPeerNames(socket: Socket): string[] | undefined {
  const tls = socket as TLSSocket;
  if (typeof tls.getPeerCertificate !== 'function' || tls.authorized !== true) return undefined;
  const cert = tls.getPeerCertificate();
  const dns = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4).toLowerCase());
  const cn = typeof cert.subject?.CN === 'string' ? [cert.subject.CN.toLowerCase()] : [];
  const names = dns.length ? dns : cn;
  return names.length ? names : undefined;
}

export class TcpConnection {
  readonly key: string;
  readonly source: MessageSource;
  private readonly framer: SipStreamFramer;
  private idleClosed = false;
  private failureReported = false;
  private readTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly socket: Socket,
    remote: { host: string; port: number },
    idleTimeoutMs: number,
    maxMessageBytes: number,
    events: TcpConnectionEvents,
    messageReadTimeoutMs = 0,
    /** 'tls' for a TLSSocket (tlsTransport.ts): the same framing, its own source transport. */
    transport: StreamTransportName = 'tcp',
  ) {
    const host = normaliseAddress(remote.host);
    this.key = endpointKey(host, remote.port);
    const peerNames = transport === 'tls' ? verifiedPeerNames(socket) : undefined;
    this.source = { transport, address: host, port: remote.port, ...(peerNames ? { peerNames } : {}) };
    this.framer = new SipStreamFramer({ maxMessageBytes, strict: true });
    socket.setNoDelay(true);
    // Node resets this timer on every read and write: it fires only when idle.
    socket.setTimeout(idleTimeoutMs, () => {
      this.idleClosed = true;
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      for (const raw of this.framer.push(chunk)) events.onMessage(raw, this.source);
      // A partial message starts the read timer; trickled bytes keep the idle timer alive but not this one.
      if (this.framer.pendingBytes === 0) this.stopReadTimer();
      else if (messageReadTimeoutMs > 0 && !this.readTimer) {
        this.readTimer = setTimeout(() => {
          events.onSlowSender?.(this);
          socket.destroy();
        }, messageReadTimeoutMs);
        this.readTimer.unref();
      }
      const failure = this.framer.failure;
      if (failure && !this.failureReported) {
        this.failureReported = true;
        socket.pause(); // nothing after the failure can be framed: read no more
        events.onFramingFailure(this, failure);
      }
    });
    socket.on('error', () => socket.destroy()); // reported to writers through their callbacks
    socket.on('close', () => {
      this.stopReadTimer();
      this.closed = true;
      events.onClose(this, this.idleClosed);
    });
  }

  private stopReadTimer(): void {
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = undefined;
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /**
   * Resolves once the bytes are handed to the kernel; rejects if the connection
   * fails first (a destroyed stream calls back every buffered write with an error,
   * also for writes queued while connecting).
   */
  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.isOpen) {
        reject(new Error(`${this.source.transport.toUpperCase()} connection to ${this.key} is closed`));
        return;
      }
      this.socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  /** Closes after the bytes written so far are sent (a last answer, then FIN). */
  end(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref(); // a peer that never reads must not pin the socket
  }
}
