// Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6): sends the
// request, retransmits it on Timer E over UDP, gives up on Timer F, reports
// provisional responses, resolves with the first final response and then
// absorbs that response's retransmissions until Timer K.
import { parseVia, type SipMessage } from '../../decode/sip/index.ts';
import { BRANCH_MAGIC_COOKIE, serialize, type OutgoingRequest } from '../message/index.ts';
import { isReliable, type TransportTarget } from '../transport/index.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { clientKey } from './keys.ts';
import { NON_INVITE_TIMERS, nextTimerE, type TimerValues } from './timers.ts';

type ClientTransactionState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** What the TU learns (§17.1.2.2: a Timer F timeout is to be treated as 408). */
export type ClientTransactionOutcome =
  { readonly kind: 'response'; readonly response: SipMessage } | { readonly kind: 'timeout' } | { readonly kind: 'transport-error'; readonly error: Error };

type SendBytes = (bytes: Buffer, target: TransportTarget) => Promise<void>;

interface ClientTransactionOptions {
  readonly request: OutgoingRequest;
  readonly target: TransportTarget;
  readonly send: SendBytes;
  readonly clock: Clock;
  readonly timers: TimerValues;
  readonly onProvisional?: (response: SipMessage) => void;
  /** Called once on entering Terminated (the layer forgets the transaction). */
  readonly onTerminated?: (tx: NonInviteClientTransaction) => void;
}

export class NonInviteClientTransaction {
  readonly branch: string;
  readonly method: string;
  readonly key: string;
  readonly target: TransportTarget;
  readonly outcome: Promise<ClientTransactionOutcome>;
  /** Clock times at which the request went out (first send and retransmissions). */
  readonly sentAt: number[] = [];
  /** Final-response retransmissions swallowed in Completed. */
  absorbedResponses = 0;
  private _state: ClientTransactionState = 'trying';
  private readonly bytes: Buffer;
  private readonly reliable: boolean;
  private timerE: TimerHandle | undefined;
  private timerF: TimerHandle | undefined;
  private timerK: TimerHandle | undefined;
  private intervalE: number;
  private resolve!: (o: ClientTransactionOutcome) => void;

  constructor(private readonly options: ClientTransactionOptions) {
    const { request } = options;
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new Error(`${request.method} needs an INVITE client transaction, not a non-INVITE one`);
    }
    const viaLine = request.headers.find(([n]) => n.toLowerCase() === 'via' || n === 'v')?.[1];
    const branch = viaLine === undefined ? undefined : parseVia(viaLine)?.branch;
    if (!branch?.startsWith(BRANCH_MAGIC_COOKIE)) throw new Error('request needs a top Via with an RFC 3261 branch');
    this.branch = branch;
    this.method = request.method;
    this.key = clientKey(branch, request.method);
    this.target = options.target;
    this.reliable = isReliable(options.target.transport);
    this.bytes = serialize(request); // retransmissions are byte-identical
    this.intervalE = NON_INVITE_TIMERS.E.duration(options.timers, this.reliable);
    this.outcome = new Promise((r) => (this.resolve = r));
  }

  get state(): ClientTransactionState {
    return this._state;
  }

  /** Sends the request and starts Timers E (UDP) and F. */
  start(): this {
    const { clock, timers } = this.options;
    this.transmit();
    if (!this.reliable) this.timerE = clock.schedule(this.intervalE, () => this.onTimerE());
    this.timerF = clock.schedule(NON_INVITE_TIMERS.F.duration(timers, this.reliable), () => {
      if (this._state === 'trying' || this._state === 'proceeding') this.finish({ kind: 'timeout' });
    });
    return this;
  }

  /** A response the layer matched to this transaction (§17.1.3). */
  receiveResponse(response: SipMessage): void {
    const status = response.status ?? 0;
    if (this._state === 'completed') {
      this.absorbedResponses++;
      return;
    }
    if (this._state === 'terminated') return;
    if (status < 200) {
      this._state = 'proceeding';
      this.options.onProvisional?.(response);
      return;
    }
    this.timerE?.cancel();
    this.timerF?.cancel();
    this._state = 'completed';
    this.resolve({ kind: 'response', response });
    const k = NON_INVITE_TIMERS.K.duration(this.options.timers, this.reliable);
    if (k === 0) this.terminate();
    else this.timerK = this.options.clock.schedule(k, () => this.terminate());
  }

  /** Stops every timer; an unfinished transaction ends as a timeout. */
  cancel(): void {
    if (this._state === 'trying' || this._state === 'proceeding') this.finish({ kind: 'timeout' });
    else this.terminate();
  }

  private onTimerE(): void {
    if (this._state !== 'trying' && this._state !== 'proceeding') return;
    this.transmit();
    this.intervalE = nextTimerE(this.intervalE, this._state === 'proceeding', this.options.timers);
    this.timerE = this.options.clock.schedule(this.intervalE, () => this.onTimerE());
  }

  private transmit(): void {
    this.sentAt.push(this.options.clock.now());
    this.options.send(this.bytes, this.target).catch((err: unknown) => {
      // §17.1.4: a transport failure ends the transaction and tells the TU.
      if (this._state === 'trying' || this._state === 'proceeding') {
        this.finish({ kind: 'transport-error', error: err instanceof Error ? err : new Error(String(err)) });
      }
    });
  }

  private finish(outcome: ClientTransactionOutcome): void {
    this.resolve(outcome);
    this.terminate();
  }

  private terminate(): void {
    if (this._state === 'terminated') return;
    this._state = 'terminated';
    this.timerE?.cancel();
    this.timerF?.cancel();
    this.timerK?.cancel();
    this.options.onTerminated?.(this);
  }
}
