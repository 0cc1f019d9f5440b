// One TCP connection carrying SIP in both directions (RFC 3261 §18.3): frames
// the byte stream into messages with the decoder's SipStreamFramer and closes
// itself after a period without traffic, so idle watchers do not pin sockets.
import type { Socket } from 'node:net';
import { SipStreamFramer } from '../../decode/sip/index.ts';
import { endpointKey, normaliseAddress, type MessageSource } from './types.ts';

interface TcpConnectionEvents {
  onMessage(raw: Buffer, source: MessageSource): void;
  onClose(conn: TcpConnection, idle: boolean): void;
}

export class TcpConnection {
  readonly key: string;
  readonly source: MessageSource;
  private readonly framer: SipStreamFramer;
  private idleClosed = false;
  private closed = false;

  constructor(
    readonly socket: Socket,
    remote: { host: string; port: number },
    idleTimeoutMs: number,
    maxMessageBytes: number,
    events: TcpConnectionEvents,
  ) {
    const host = normaliseAddress(remote.host);
    this.key = endpointKey(host, remote.port);
    this.source = { transport: 'tcp', address: host, port: remote.port };
    this.framer = new SipStreamFramer({ maxMessageBytes });
    socket.setNoDelay(true);
    // Node resets this timer on every read and write: it fires only when idle.
    socket.setTimeout(idleTimeoutMs, () => {
      this.idleClosed = true;
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      for (const raw of this.framer.push(chunk)) events.onMessage(raw, this.source);
    });
    socket.on('error', () => socket.destroy()); // reported to writers through their callbacks
    socket.on('close', () => {
      this.closed = true;
      events.onClose(this, this.idleClosed);
    });
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
        reject(new Error(`TCP connection to ${this.key} is closed`));
        return;
      }
      this.socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
