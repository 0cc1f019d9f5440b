// SIP transports' deliveries collected for socket tests (protocols/sip/transport
// and ../transaction), and a bare UDP peer. Waits are bounded, so a lost
// datagram fails a test instead of hanging it.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
import type { SipTransport } from '../../protocols/sip/transport/transport.ts';
import type { MessageSource } from '../../protocols/sip/transport/types.ts';
import { eventually } from './wait.ts';

export interface Received {
  readonly message: SipMessage;
  readonly source: MessageSource;
}

/** Collects everything a transport delivers; `next()` waits (bounded) for the next one. */
export class Inbox {
  readonly all: Received[] = [];
  private taken = 0;

  constructor(transport: SipTransport) {
    transport.onMessage((message, source) => this.all.push({ message, source }));
  }

  async next(timeoutMs = 2000): Promise<Received> {
    await eventually('a SIP message', () => this.all.length > this.taken, { timeoutMs, intervalMs: 5 });
    return this.all[this.taken++]!;
  }
}

/** A bare UDP socket on 127.0.0.1 standing in for a peer that is not our stack. */
export async function rawUdpPeer(
  host = '127.0.0.1',
): Promise<{ socket: Socket; port: number; datagrams: Array<{ data: Buffer; rinfo: RemoteInfo; at: number }> }> {
  const socket = createSocket('udp4');
  const datagrams: Array<{ data: Buffer; rinfo: RemoteInfo; at: number }> = [];
  socket.on('message', (data, rinfo) => datagrams.push({ data, rinfo, at: Date.now() }));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { socket, port: socket.address().port, datagrams };
}
