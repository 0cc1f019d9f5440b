// Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8): the TU answers
// through respond(); retransmitted requests are answered with the last
// response sent (none while Trying); after the final response Timer J keeps
// the transaction around to absorb retransmissions over UDP.
import type { SipMessage } from '../../decode/sip/index.ts';
import { buildResponse, newTag, serialize, type OutgoingResponse, type ResponseSpec } from '../message/index.ts';
import { isReliable, responseTarget, type MessageSource, type ResponseRoute, type SendOptions, type TransportTarget } from '../transport/index.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { NON_INVITE_TIMERS, type TimerValues } from './timers.ts';

type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'terminated';

type SendResponseBytes = (bytes: Buffer, target: TransportTarget, options?: SendOptions) => Promise<void>;

interface ServerTransactionOptions {
  readonly request: SipMessage;
  readonly source: MessageSource;
  readonly key: string;
  readonly send: SendResponseBytes;
  readonly clock: Clock;
  readonly timers: TimerValues;
  readonly onTerminated?: (tx: NonInviteServerTransaction) => void;
}

export class NonInviteServerTransaction {
  readonly request: SipMessage;
  readonly source: MessageSource;
  readonly key: string;
  /** One To-tag for every response of this transaction, unless the request already has one. */
  readonly toTag: string;
  /** Request retransmissions seen (answered with the last response, or ignored while Trying). */
  absorbedRequests = 0;
  private _state: ServerTransactionState = 'trying';
  private _lastResponse: OutgoingResponse | undefined;
  private lastBytes: Buffer | undefined;
  private readonly reliable: boolean;
  private readonly route: ResponseRoute;
  private timerJ: TimerHandle | undefined;
  private abandon: TimerHandle | undefined;

  constructor(private readonly options: ServerTransactionOptions) {
    this.request = options.request;
    this.source = options.source;
    this.key = options.key;
    this.toTag = options.request.to?.tag ?? newTag();
    this.reliable = isReliable(options.source.transport);
    this.route = responseTarget(options.request.topVia, options.source);
    // Not in the RFC: a TU that never answers would leak the transaction; once
    // Timer F has expired at the client (64·T1) no answer can matter any more.
    this.abandon = options.clock.schedule(64 * options.timers.T1, () => {
      if (this._state === 'trying' || this._state === 'proceeding') this.terminate();
    });
  }

  get state(): ServerTransactionState {
    return this._state;
  }

  get lastResponse(): OutgoingResponse | undefined {
    return this._lastResponse;
  }

  /**
   * Sends a response (built per §8.2.6 from the request). 1xx keeps the
   * transaction open; a final response completes it. Resolves when sent,
   * rejects on a transport error (§17.2.4, the transaction then terminates).
   */
  respond(status: number, spec: ResponseSpec = {}): Promise<void> {
    if (this._state === 'completed' || this._state === 'terminated') {
      return Promise.reject(new Error(`transaction ${this.key} already answered (${this._state})`));
    }
    const response = buildResponse(this.request, status, { toTag: this.toTag, ...spec });
    const bytes = serialize(response);
    this._lastResponse = response;
    this.lastBytes = bytes;
    if (status < 200) this._state = 'proceeding';
    else {
      this._state = 'completed';
      this.abandon?.cancel();
      const j = NON_INVITE_TIMERS.J.duration(this.options.timers, this.reliable);
      if (j > 0) this.timerJ = this.options.clock.schedule(j, () => this.terminate());
    }
    const sent = this.transmit(bytes);
    if (this._state === 'completed' && this.reliable) this.terminate(); // Timer J = 0 on TCP
    return sent;
  }

  /** The same request again (matched by the layer, §17.2.3). */
  receiveRetransmission(): void {
    this.absorbedRequests++;
    if ((this._state === 'proceeding' || this._state === 'completed') && this.lastBytes) {
      this.transmit(this.lastBytes).catch(() => {});
    }
  }

  cancel(): void {
    this.terminate();
  }

  private async transmit(bytes: Buffer): Promise<void> {
    const { primary, fallback } = this.route;
    try {
      await this.options.send(bytes, primary, { reuseOnly: isReliable(primary.transport) });
    } catch (err) {
      if (!fallback) return this.failed(err);
      try {
        // §18.2.2: the connection is gone; open one to received/sent-by.
        await this.options.send(bytes, fallback);
      } catch (err2) {
        return this.failed(err2);
      }
    }
  }

  private failed(err: unknown): never {
    this.terminate();
    throw err instanceof Error ? err : new Error(String(err));
  }

  private terminate(): void {
    if (this._state === 'terminated') return;
    this._state = 'terminated';
    this.timerJ?.cancel();
    this.abandon?.cancel();
    this.options.onTerminated?.(this);
  }
}
