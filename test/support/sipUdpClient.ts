// A UDP SIP peer for tests (watcher, user agent): one socket on 127.0.0.1,
// every datagram parsed and handed out in arrival order. Waits are bounded so
// a lost datagram fails the test instead of hanging it.
import { createSocket, type Socket } from 'node:dgram';
import { parseSipMessage, type SipMessage } from '../../protocols/decode/sip/index.ts';

export interface SipUdpClient {
  readonly socket: Socket;
  readonly port: number;
  /** The next message received (response or request), waiting at most timeoutMs. */
  next(timeoutMs?: number): Promise<SipMessage>;
  close(): Promise<void>;
}

export async function openSipUdpClient(opts: { host?: string; defaultTimeoutMs?: number } = {}): Promise<SipUdpClient> {
  const host = opts.host ?? '127.0.0.1';
  const defaultTimeoutMs = opts.defaultTimeoutMs ?? 5000;
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, host, r));
  const queue: SipMessage[] = [];
  const waiters: Array<(m: SipMessage) => void> = [];
  socket.on('message', (b) => {
    const m = parseSipMessage(b);
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const next = (timeoutMs = defaultTimeoutMs) =>
    new Promise<SipMessage>((resolve, reject) => {
      const q = queue.shift();
      if (q) return resolve(q);
      const waiter = (m: SipMessage) => (clearTimeout(t), resolve(m));
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no SIP message within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(waiter);
    });
  const close = () => new Promise<void>((r) => socket.close(() => r()));
  return { socket, port: socket.address().port, next, close };
}

/** A UDP user agent that sends many requests at once and matches each final response to its request by Via branch. */
export interface SipBranchClient {
  readonly port: number;
  /** Sends `text` (a request whose top Via has `branch`) to host:port; resolves with its final response. */
  request(text: string, branch: string, port: number, timeoutMs?: number): Promise<SipMessage>;
  close(): Promise<void>;
}

export async function openSipBranchClient(host = '127.0.0.1'): Promise<SipBranchClient> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, host, r));
  const waiting = new Map<string, (m: SipMessage) => void>();
  socket.on('message', (b) => {
    const m = parseSipMessage(b);
    if (m.status !== undefined && m.status >= 200) waiting.get(m.topVia?.branch ?? '')?.(m);
  });
  const request = (text: string, branch: string, port: number, timeoutMs = 10_000) =>
    new Promise<SipMessage>((resolve, reject) => {
      const t = setTimeout(
        () => (waiting.delete(branch), reject(new Error(`no final response to ${text.split(' ', 1)[0]} ${branch} within ${timeoutMs} ms`))),
        timeoutMs,
      );
      waiting.set(branch, (m) => (clearTimeout(t), waiting.delete(branch), resolve(m)));
      socket.send(text, port, host);
    });
  return { port: socket.address().port, request, close: () => new Promise<void>((r) => socket.close(() => r())) };
}
