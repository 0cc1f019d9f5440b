// The transaction layer between a SIP transport and a transaction user (the
// SIP front end, the NOTIFY sink): matches incoming responses to client
// transactions (§17.1.3) and requests to server transactions (§17.2.3),
// creates a server transaction for each new request and hands it to the TU.
import type { SipMessage } from '../../decode/sip/index.ts';
import {
  buildRequest,
  buildResponse,
  newBranch,
  serialize,
  type OutgoingMessage,
  type OutgoingRequest,
  type RequestSpec,
  type ViaSpec,
} from '../message/index.ts';
import {
  isReliable,
  responseTarget,
  type MessageSource,
  type SendOptions,
  type SipMessageHandler,
  type SipTransportName,
  type TransportTarget,
} from '../transport/index.ts';
import { systemClock, type Clock } from './clock.ts';
import { NonInviteClientTransaction } from './clientTransaction.ts';
import { clientKeyOfResponse, serverKey } from './keys.ts';
import { NonInviteServerTransaction } from './serverTransaction.ts';
import { RFC3261_TIMERS, type TimerValues } from './timers.ts';

/** What the layer needs of a transport; SipTransport fits, tests may use a fake. */
export interface TransportPort {
  readonly host: string;
  readonly port: number;
  /** The TLS listener's port, when there is one: the sent-by port of requests we send over TLS. */
  readonly tlsPort?: number;
  send(message: OutgoingMessage | Buffer, target: TransportTarget, options?: SendOptions): Promise<void>;
  onMessage(handler: SipMessageHandler): void;
}

export interface TransactionUser {
  /** A new request; answer it with serverTx.respond(...). A throw or rejection is answered with 500. */
  onRequest(request: SipMessage, serverTx: NonInviteServerTransaction): void | Promise<void>;
}

interface TransactionLayerOptions {
  readonly clock?: Clock;
  readonly timers?: Partial<TimerValues>;
  /** Our sent-by in Via when it differs from the listening address (NAT, DNS name). */
  readonly sentBy?: { readonly host: string; readonly port: number };
  /** Methods listed in Allow when an INVITE is refused. */
  readonly allow?: readonly string[];
  /**
   * §18.1.1: a request larger than this (path MTU unknown) goes over TCP even
   * when UDP was asked for; PIDF/RLMI NOTIFYs easily pass it. Default 1300.
   */
  readonly udpMaxRequestBytes?: number;
  /**
   * Server transactions held at once (each keeps its request and response until Timer J,
   * 32 s over UDP): past it a new request is answered 503 + Retry-After statelessly, so a
   * flood of new Call-IDs, from however many sources, costs bounded memory. Default 150,000: ~4,500 requests/s over UDP for Timer J (32 s), ~8 KiB each (bench/RESULTS.md, SIP flood).
   */
  readonly maxServerTransactions?: number;
  /** Seconds in that 503's Retry-After. Default 5. */
  readonly overloadRetryAfterS?: number;
}

interface TransactionLayerStats {
  /** Responses that matched no client transaction (§17.1.3: passed to the core, which drops them). */
  strayResponses: number;
  /** ACKs without a transaction (this layer has no INVITE server transactions). */
  strayAcks: number;
  /** INVITEs refused statelessly with 405. */
  invitesRefused: number;
  /** TU callbacks that threw or rejected. */
  tuErrors: number;
  /** New requests answered 503 statelessly because maxServerTransactions were held. */
  overloaded: number;
}

const DEFAULT_ALLOW = ['SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'OPTIONS'];
export const DEFAULT_MAX_SERVER_TRANSACTIONS = 150_000;
/** §18.1.1: "larger than 1300 bytes and the path MTU is unknown". */
const UDP_MAX_REQUEST_BYTES = 1300;

interface SendRequestOptions {
  readonly onProvisional?: (response: SipMessage) => void;
  /**
   * Send over the target's transport whatever the size: the retry over UDP
   * that §18.1.1 asks for when the TCP connection chosen for size is refused.
   */
  readonly keepTransport?: boolean;
}

export class TransactionLayer {
  readonly stats: TransactionLayerStats = { strayResponses: 0, strayAcks: 0, invitesRefused: 0, tuErrors: 0, overloaded: 0 };
  readonly timers: TimerValues;
  private readonly clock: Clock;
  private readonly clients = new Map<string, NonInviteClientTransaction>();
  private readonly servers = new Map<string, NonInviteServerTransaction>();

  constructor(
    private readonly transport: TransportPort,
    private readonly tu: TransactionUser,
    private readonly options: TransactionLayerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.timers = { ...RFC3261_TIMERS, ...options.timers };
    transport.onMessage((message, source) => this.receive(message, source));
  }

  /** Above this many bytes a request for UDP goes over TCP (§18.1.1). */
  get udpMaxRequestBytes(): number {
    return this.options.udpMaxRequestBytes ?? UDP_MAX_REQUEST_BYTES;
  }

  get clientTransactionCount(): number {
    return this.clients.size;
  }

  get serverTransactionCount(): number {
    return this.servers.size;
  }

  /** A Via for a new request from us over `transport`, with a fresh branch. */
  via(transport: SipTransportName): ViaSpec {
    const sentBy = this.options.sentBy ?? { host: this.transport.host, port: this.transport.port };
    const port = transport === 'tls' && this.transport.tlsPort ? this.transport.tlsPort : sentBy.port;
    return { transport, host: sentBy.host, port, branch: newBranch() };
  }

  /**
   * Builds a request (fresh branch, our sent-by) and runs a client transaction
   * for it; a UDP request too large for UDP (§18.1.1) is sent over TCP instead
   * (unless keepTransport; the transaction's target says which was used).
   */
  request(spec: RequestSpec, target: TransportTarget, options: SendRequestOptions = {}): NonInviteClientTransaction {
    const request = buildRequest(spec, this.via(target.transport));
    if (!options.keepTransport && target.transport === 'udp' && serialize(request).length > this.udpMaxRequestBytes) {
      const tcp: TransportTarget = { ...target, transport: 'tcp' };
      return this.sendRequest(buildRequest(spec, this.via('tcp')), tcp, options);
    }
    return this.sendRequest(request, target, options);
  }

  /** Runs a client transaction for a request whose top Via already carries a unique branch. */
  sendRequest(request: OutgoingRequest, target: TransportTarget, options: SendRequestOptions = {}): NonInviteClientTransaction {
    const tx = new NonInviteClientTransaction({
      request,
      target,
      send: (bytes, t) => this.transport.send(bytes, t),
      clock: this.clock,
      timers: this.timers,
      ...(options.onProvisional ? { onProvisional: options.onProvisional } : {}),
      onTerminated: (done) => {
        if (this.clients.get(done.key) === done) this.clients.delete(done.key);
      },
    });
    if (this.clients.has(tx.key)) throw new Error(`a client transaction with branch ${tx.branch} is already running`);
    this.clients.set(tx.key, tx);
    return tx.start();
  }

  /** Cancels every timer and forgets all transactions (unfinished client ones end as timeouts). */
  close(): void {
    for (const tx of [...this.clients.values()]) tx.cancel();
    for (const tx of [...this.servers.values()]) tx.cancel();
    this.clients.clear();
    this.servers.clear();
  }

  private receive(message: SipMessage, source: MessageSource): void {
    if (message.isRequest) this.receiveRequest(message, source);
    else this.receiveResponse(message);
  }

  private receiveResponse(response: SipMessage): void {
    const key = clientKeyOfResponse(response);
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (!tx) {
      this.stats.strayResponses++;
      return;
    }
    tx.receiveResponse(response);
  }

  private answerStatelessly(request: SipMessage, source: MessageSource, status: number, headers: Array<[string, string]>): void {
    const route = responseTarget(request.topVia, source);
    this.transport
      .send(serialize(buildResponse(request, status, { headers })), route.primary, { reuseOnly: isReliable(route.primary.transport) })
      .catch(() => {});
  }

  private receiveRequest(request: SipMessage, source: MessageSource): void {
    const key = serverKey(request);
    if (key === undefined) return; // no Via: nowhere to answer (the parser lets it through)
    const existing = this.servers.get(key);
    if (existing) {
      existing.receiveRetransmission();
      return;
    }
    if (request.method === 'ACK') {
      this.stats.strayAcks++;
      return;
    }
    if (request.method === 'INVITE') {
      // Presence needs no sessions; answering statelessly is enough for a retransmitting caller.
      this.stats.invitesRefused++;
      this.answerStatelessly(request, source, 405, [['Allow', (this.options.allow ?? DEFAULT_ALLOW).join(', ')]]);
      return;
    }
    if (this.servers.size >= (this.options.maxServerTransactions ?? DEFAULT_MAX_SERVER_TRANSACTIONS)) {
      // RFC 3261 §21.5.4; its retransmissions get the same stateless answer.
      this.stats.overloaded++;
      this.answerStatelessly(request, source, 503, [['Retry-After', String(this.options.overloadRetryAfterS ?? 5)]]);
      return;
    }
    const tx = new NonInviteServerTransaction({
      request,
      source,
      key,
      send: (bytes, target, opts) => this.transport.send(bytes, target, opts),
      clock: this.clock,
      timers: this.timers,
      onTerminated: (done) => {
        if (this.servers.get(done.key) === done) this.servers.delete(done.key);
      },
    });
    this.servers.set(key, tx);
    const fail = () => {
      this.stats.tuErrors++;
      if (tx.state === 'trying' || tx.state === 'proceeding') tx.respond(500).catch(() => {});
    };
    try {
      const r = this.tu.onRequest(request, tx);
      if (r instanceof Promise) r.catch(fail);
    } catch {
      fail();
    }
  }
}
