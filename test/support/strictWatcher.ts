// A watcher's UA over UDP on 127.0.0.1 that is as strict as PJSIP about CSeq
// (RFC 3261 §12.2.2): a NOTIFY whose CSeq is not above the highest it has seen
// in its dialog gets 500, a new one 200; a retransmission (same Via branch)
// gets the answer it got before, as a server transaction would. It can be cut
// off (answers nothing, like a watcher behind a dead NAT) and come back.
import { createSocket, type Socket } from 'node:dgram';
import { parseSipMessage, type SipMessage } from '../../protocols/decode/sip/index.ts';
import { buildResponse, serialize } from '../../protocols/sip/message/index.ts';

export interface ReceivedNotify {
  readonly callId: string;
  readonly cseq: number;
  readonly status: 200 | 500;
  readonly subscriptionState: string;
  readonly body: string;
  /** Its Content-Type ('' without a body). */
  readonly contentType: string;
  readonly at: number;
}

export class StrictWatcher {
  /** Every NOTIFY transaction answered (not retransmissions), in arrival order. */
  readonly received: ReceivedNotify[] = [];
  /** NOTIFYs with a CSeq below the highest seen that the dialog never had before: a notifier that restarted its CSeq. */
  readonly backwards: ReceivedNotify[] = [];
  cutOff = false;
  /** Responses to requests it sent itself (send), in arrival order. */
  readonly responses: SipMessage[] = [];
  private readonly highest = new Map<string, number>();
  private readonly seen = new Set<string>();
  private readonly answered = new Map<string, Buffer>();

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (b, rinfo) => {
      if (this.cutOff) return;
      let m;
      try {
        m = parseSipMessage(b);
      } catch {
        return;
      }
      if (!m.isRequest) return void this.responses.push(m);
      if (m.method !== 'NOTIFY') return;
      const branch = /branch=([^;,\s]+)/i.exec(m.headers.get('via') ?? '')?.[1] ?? '';
      const again = this.answered.get(branch);
      if (again) return void socket.send(again, rinfo.port, rinfo.address);
      const cseq = m.cseq.seq;
      const top = this.highest.get(m.callId) ?? -1;
      const status = cseq > top ? 200 : 500;
      const n: ReceivedNotify = {
        callId: m.callId,
        cseq,
        status,
        subscriptionState: m.headers.get('subscription-state') ?? '',
        body: m.body.toString('utf8'),
        contentType: m.headers.get('content-type') ?? '',
        at: Date.now(),
      };
      this.received.push(n);
      if (status === 200) this.highest.set(m.callId, cseq);
      else if (!this.seen.has(`${m.callId}\u0000${cseq}`)) this.backwards.push(n);
      this.seen.add(`${m.callId}\u0000${cseq}`);
      const out = serialize(buildResponse(m, status, status === 500 ? { reason: 'Invalid CSeq' } : {}));
      this.answered.set(branch, out);
      socket.send(out, rinfo.port, rinfo.address);
    });
  }

  static async open(): Promise<StrictWatcher> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    return new StrictWatcher(socket, socket.address().port);
  }

  get uri(): string {
    return `sip:watcher@127.0.0.1:${this.port}`;
  }

  /** The NOTIFYs of a dialog it accepted (200), in order. */
  accepted(callId: string): ReceivedNotify[] {
    return this.received.filter((n) => n.callId === callId && n.status === 200);
  }

  /** Sends a request from its own socket, as a handset SUBSCRIBEs from the address its NOTIFYs come back to. */
  send(bytes: string | Buffer, port: number, host = '127.0.0.1'): void {
    this.socket.send(bytes, port, host);
  }

  /**
   * Sends a SUBSCRIBE from this watcher's own socket (a handset's way: the front
   * end relays NOTIFYs over the flow the SUBSCRIBE came from) to a front end.
   */
  subscribe(o: { to: string; from: string; callId: string; port: number; host?: string; event?: string; accept?: string; expires?: number }): void {
    const host = o.host ?? '127.0.0.1';
    this.send(
      [
        `SUBSCRIBE ${o.to} SIP/2.0`,
        `Via: SIP/2.0/UDP ${host}:${this.port};rport;branch=z9hG4bK-${o.callId}`,
        'Max-Forwards: 70',
        `From: <${o.from}>;tag=t-${o.callId}`,
        `To: <${o.to}>`,
        `Call-ID: ${o.callId}`,
        'CSeq: 1 SUBSCRIBE',
        `Contact: <${this.uri}>`,
        `Event: ${o.event ?? 'presence'}`,
        `Accept: ${o.accept ?? 'application/pidf+xml'}`,
        `Expires: ${o.expires ?? 600}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      o.port,
      host,
    );
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}
