// Delivers one NotifyRequest: builds the NOTIFY, runs a non-INVITE client
// transaction per attempt (TransactionLayer.request: Timers E/F, UDP→TCP above
// the layer's size threshold), and applies the outcome/backoff policy.
// Kafka-free, so it is tested against a fake transport and against SIPp.
//
// No watcher is lost to the transport choice or to NAT:
// - a NOTIFY moved to TCP for its size whose connection is refused or not
//   established in time goes out again at once over UDP (§18.1.1), and the
//   watcher's address is remembered as TCP-unreachable for a while so the
//   next big NOTIFYs do not wait for the connect timeout again;
// - a dialog whose route set starts with a front end's flow route is sent
//   through that front end (it relays from the socket the SUBSCRIBE reached,
//   front-end/flowRelay.ts); when the front end cannot be reached, or answers
//   430 Flow Failed, the NOTIFY goes directly to the watcher instead.
import { setTimeout as realSleep } from 'node:timers/promises';
import type { NotifyRequest } from '../../../schemas/generated/records.ts';
import { buildRequest, serialize } from '../../../protocols/sip/message/index.ts';
import type { ClientTransactionOutcome, TransactionLayer } from '../../../protocols/sip/transaction/index.ts';
import { defaultTarget, isFlowRoute, needsLookup, routeUri, type SipServerLocator, type TransportTarget } from '../../../protocols/sip/transport/index.ts';
import { parseUri } from '../../../protocols/decode/sip/index.ts';
import type { RequestSpec } from '../../../protocols/sip/message/index.ts';
import { BadNotifyRequest, nextHop, nextHopLocation, notifySpec } from './notifyMessage.ts';
import { decideAttempt, type DeliveryOutcome, type RetryPolicy } from './policy.ts';
import { Semaphore } from './scheduling.ts';
import { LatencyHistogram } from '../../../protocols/http/latencyHistogram.ts';

export interface DeliveryResult {
  readonly outcome: DeliveryOutcome;
  readonly statusCode: number | null;
  readonly attempts: number;
  readonly reason: string | null;
  /** The NOTIFY as (last) sent, for dead letters; empty when it could not be built. */
  readonly bytes: Buffer;
  /**
   * What carried the last attempt: `udp` or `tcp` straight to the watcher, or
   * `flow/udp`, `flow/tcp` through the front end over the watcher's own flow;
   * null (or absent) when nothing was sent.
   */
  readonly transport?: string | null;
  /** False when no attempt got any response (timeouts, transport errors only). */
  readonly answered?: boolean;
}

/** One way to the watcher: the NOTIFY and its next hop. */
interface Path {
  readonly spec: RequestSpec;
  readonly target: TransportTarget;
  /** Set for the path through a front end's flow: the flow's transport. */
  readonly flow?: string;
}

/** RFC 5626 §11: the front end could not use the watcher's flow. */
const FLOW_FAILED = 430;
/** How long a watcher that refused TCP is sent its big NOTIFYs over UDP straight away. */
const TCP_DOWN_MS = 10 * 60_000;
const TCP_DOWN_MAX_ENTRIES = 10_000;

interface DelivererOptions {
  readonly layer: TransactionLayer;
  /** The sink's Contact URI. */
  readonly contact: string;
  readonly maxForwards?: number;
  readonly policy: RetryPolicy;
  /** Bounds concurrent transactions (taken per attempt, not during backoff). */
  readonly semaphore: Semaphore;
  readonly sleep?: (ms: number) => Promise<void>;
  /** True once the sink is stopping: no further attempts are started. */
  readonly stopping?: () => boolean;
  readonly now?: () => number;
  /** RFC 3263: a next hop naming a domain without a port is located by NAPTR/SRV (else sent to the name on the default port). */
  readonly locator?: SipServerLocator;
}

/** Located servers of one domain a NOTIFY may try (RFC 3263 §4.3), the first included. */
const MAX_LOCATED_SERVERS = 3;

export class StoppedError extends Error {
  constructor() {
    super('notify sink stopping');
    this.name = 'StoppedError';
  }
}

export class NotifyDeliverer {
  readonly stats = {
    attempts: 0,
    retries: 0,
    /** NOTIFYs sent again over UDP after the TCP connection chosen for their size failed. */
    udpFallbacks: 0,
    /** NOTIFYs sent directly after their front end's flow failed. */
    flowFallbacks: 0,
    /** NOTIFYs sent to a domain's next located server after one failed (RFC 3263 §4.3). */
    serverFailovers: 0,
    byOutcome: { delivered: 0, gone: 0, 'gave-up': 0, rejected: 0 } as Record<DeliveryOutcome, number>,
    /** NOTIFYs given up on without any answer to any attempt (a silent Contact, unansweredMaxAttempts). */
    unanswered: 0,
    /** From the first attempt to the final outcome (retries and backoff included), by outcome. */
    latency: {
      delivered: new LatencyHistogram(),
      gone: new LatencyHistogram(),
      'gave-up': new LatencyHistogram(),
      rejected: new LatencyHistogram(),
    } as Partial<Record<DeliveryOutcome, LatencyHistogram>>,
  };
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** host:port → until when TCP is not tried for it (insertion order = age, for the size bound). */
  private readonly tcpDown = new Map<string, number>();

  constructor(private readonly o: DelivererOptions) {
    this.sleep = o.sleep ?? realSleep;
    this.now = o.now ?? Date.now;
  }

  /**
   * Resolves with the final outcome; rejects only with StoppedError when the sink stops mid-way
   * or the job is `abandoned` (its partition was revoked). `sentBefore`: see decideAttempt.
   */
  async deliver(n: NotifyRequest, job: { readonly sentBefore?: boolean; readonly abandoned?: () => boolean } = {}): Promise<DeliveryResult> {
    const started = this.now();
    const r = await this.run(n, job);
    this.stats.byOutcome[r.outcome]++;
    if (r.outcome === 'gave-up' && r.answered === false) this.stats.unanswered++;
    (this.stats.latency[r.outcome] ??= new LatencyHistogram()).observe((this.now() - started) / 1000);
    return r;
  }

  private async run(n: NotifyRequest, job: { readonly sentBefore?: boolean; readonly abandoned?: () => boolean }): Promise<DeliveryResult> {
    let direct: Path;
    let flow: Path | undefined;
    let alternates: TransportTarget[];
    let bytes: Buffer = Buffer.alloc(0);
    try {
      const build = (r: NotifyRequest) =>
        notifySpec(r, { contact: this.o.contact, ...(this.o.maxForwards !== undefined ? { maxForwards: this.o.maxForwards } : {}) });
      const first = n.routeSet[0];
      const viaFlow = first !== undefined && isFlowRoute(first);
      const directRequest = viaFlow ? { ...n, routeSet: n.routeSet.slice(1) } : n;
      if (viaFlow) flow = { spec: build(n), target: nextHop(n), flow: parseUri(routeUri(first))?.params['flow'] || 'udp' };
      // Only a domain without a port waits on DNS; an address (nearly every NOTIFY) takes no await here.
      const where = nextHopLocation(directRequest);
      const targets = this.o.locator && needsLookup(where) ? await this.o.locator.locate(where) : [defaultTarget(where)];
      direct = { spec: build(directRequest), target: targets[0]! };
      // RFC 3263 §4.3: the domain's other servers, tried in turn when one fails — a few at most, and none for a
      // Contact nobody vouched for (a domain listing many servers would multiply a reflection).
      alternates = n.contactVerified === false ? [] : targets.slice(1, MAX_LOCATED_SERVERS);
      const path = flow ?? direct;
      // The bytes for a dead letter (the branch differs per attempt; the rest is what went out).
      bytes = serialize(buildRequest(path.spec, this.o.layer.via(path.target.transport)));
    } catch (err) {
      const why = err instanceof BadNotifyRequest ? err.message : `cannot build NOTIFY: ${(err as Error).message}`;
      return { outcome: 'rejected', statusCode: null, attempts: 0, reason: why, bytes, transport: null };
    }
    let path = flow ?? direct;
    let spent = 0; // attempts that went to a flow that failed: the direct path gets the full retry policy
    // A Contact nobody vouched for (contactCheck.ts) gets one try: retries would amplify a reflection (RFC 6665 §9).
    const policy = n.contactVerified === false ? { ...this.o.policy, maxAttempts: 1 } : this.o.policy;
    let answered = false;
    for (let attempt = 1; ; attempt++) {
      if (this.o.stopping?.() || job.abandoned?.()) throw new StoppedError();
      const p = path;
      const sent = await this.o.semaphore.with(async () => {
        this.stats.attempts++;
        return this.attempt(p);
      });
      if (this.o.stopping?.()) throw new StoppedError();
      const o = sent.outcome;
      if (path === flow && (o.kind !== 'response' || o.response.status === FLOW_FAILED)) {
        this.stats.flowFallbacks++;
        path = direct;
        spent = attempt;
        bytes = serialize(buildRequest(direct.spec, this.o.layer.via(direct.target.transport)));
        continue;
      }
      if (path === direct && alternates.length > 0 && (o.kind !== 'response' || (o.response.status === 503 && !o.response.headers.get('retry-after')))) {
        // RFC 3263 §4.3: timed out, failed at the transport, or 503 without Retry-After → the next server at once, a new transaction.
        this.stats.serverFailovers++;
        path = direct = { ...direct, target: alternates.shift()! };
        spent = attempt;
        bytes = serialize(buildRequest(direct.spec, this.o.layer.via(direct.target.transport)));
        continue;
      }
      const transport = path.flow ? `flow/${path.flow}` : sent.transport;
      const d = decideAttempt(o, attempt - spent, policy, job.sentBefore, answered);
      answered ||= o.kind === 'response';
      if (d.kind === 'final') return { outcome: d.outcome, statusCode: d.statusCode, attempts: attempt, reason: d.reason, bytes, transport, answered };
      this.stats.retries++;
      await this.sleep(d.delayMs);
    }
  }

  /** One client transaction; TCP chosen for size and refused (or not connected in time) → the same NOTIFY over UDP at once. */
  private async attempt(path: Path): Promise<{ outcome: ClientTransactionOutcome; transport: string }> {
    const { spec, target } = path;
    const key = `${target.host}:${target.port}`;
    const tx = this.o.layer.request(spec, target, this.isTcpDown(key) ? { keepTransport: true } : {});
    const outcome = await tx.outcome;
    if (target.transport === 'udp' && tx.target.transport === 'tcp' && outcome.kind === 'transport-error') {
      this.markTcpDown(key);
      this.stats.udpFallbacks++;
      return { outcome: await this.o.layer.request(spec, target, { keepTransport: true }).outcome, transport: 'udp' };
    }
    return { outcome, transport: tx.target.transport };
  }

  private isTcpDown(key: string): boolean {
    const until = this.tcpDown.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.tcpDown.delete(key);
    return false;
  }

  private markTcpDown(key: string): void {
    this.tcpDown.delete(key);
    this.tcpDown.set(key, this.now() + TCP_DOWN_MS);
    if (this.tcpDown.size > TCP_DOWN_MAX_ENTRIES) this.tcpDown.delete(this.tcpDown.keys().next().value!);
  }
}
