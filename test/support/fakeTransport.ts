// Fakes for deterministic transaction tests: a transport that records what
// would be sent, and parsed messages made with our own builders.
import { parseSipMessage, type SipMessage } from '../../protocols/decode/sip/index.ts';
import { buildRequest, buildResponse, newBranch, serialize, type OutgoingMessage, type OutgoingRequest } from '../../protocols/sip/message/index.ts';
import type { MessageSource, SendOptions, SipMessageHandler, TransportTarget } from '../../protocols/sip/transport/index.ts';
import type { TransportPort } from '../../protocols/sip/transaction/layer.ts';

export interface SentRecord {
  readonly bytes: Buffer;
  readonly target: TransportTarget;
  readonly options: SendOptions | undefined;
}

export class FakeTransport implements TransportPort {
  readonly host = '127.0.0.1';
  readonly port = 5070;
  readonly sent: SentRecord[] = [];
  /** Makes the next sends fail (e.g. a TCP connection that is gone). */
  failWhen: (target: TransportTarget, options: SendOptions | undefined) => boolean = () => false;
  private handler: SipMessageHandler | undefined;

  async send(message: OutgoingMessage | Buffer, target: TransportTarget, options?: SendOptions): Promise<void> {
    if (this.failWhen(target, options)) throw new Error('fake transport failure');
    this.sent.push({ bytes: Buffer.isBuffer(message) ? message : serialize(message), target, options });
  }

  onMessage(handler: SipMessageHandler): void {
    this.handler = handler;
  }

  deliver(message: SipMessage, source: MessageSource): void {
    this.handler!(message, source);
  }

  parsed(i: number): SipMessage {
    return parseSipMessage(this.sent[i]!.bytes);
  }
}

export function notifyRequest(branch = newBranch(), transport = 'udp'): OutgoingRequest {
  return buildRequest(
    {
      method: 'NOTIFY',
      requestUri: 'sip:watcher@127.0.0.1:5999',
      from: { uri: 'sip:alice@example.com', tag: 'pa1' },
      to: { uri: 'sip:watcher@example.com', tag: 'w1' },
      callId: 'dlg-1',
      cseq: 3,
      headers: [
        ['Event', 'presence'],
        ['Subscription-State', 'active;expires=300'],
      ],
    },
    { transport, host: '127.0.0.1', port: 5070, branch },
  );
}

export function subscribeMessage(branch = newBranch(), method = 'SUBSCRIBE', viaPort = 5999, transport = 'UDP'): SipMessage {
  return parseSipMessage(subscribeBytes(branch, method, viaPort, transport));
}

export function subscribeBytes(branch = newBranch(), method = 'SUBSCRIBE', viaPort = 5999, transport = 'UDP'): Buffer {
  const spec = {
    method,
    requestUri: 'sip:alice@example.com',
    from: { uri: 'sip:watcher@example.com', tag: 'w1' },
    to: { uri: 'sip:alice@example.com' },
    callId: 'sub-1',
    cseq: 1,
    headers: [['Event', 'presence']] as Array<[string, string]>,
  };
  return serialize(buildRequest(spec, { transport, host: '127.0.0.1', port: viaPort, branch, rport: false }));
}

/** A response to an outgoing request as its peer would send it. */
export function responseTo(request: OutgoingRequest, status: number): SipMessage {
  return parseSipMessage(serialize(buildResponse(parseSipMessage(serialize(request)), status, { toTag: 'peer' })));
}
