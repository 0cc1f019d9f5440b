// Delivers one NotifyRequest: builds the NOTIFY, runs a non-INVITE client
// transaction per attempt (TransactionLayer.request: Timers E/F, UDP→TCP above
// 1300 bytes), and applies the outcome/backoff policy. Kafka-free, so it is
// tested against a fake transport and against SIPp.
import { setTimeout as realSleep } from 'node:timers/promises';
import type { NotifyRequest } from '../../../schemas/generated/records.ts';
import { buildRequest, serialize } from '../../../protocols/sip/message/index.ts';
import type { TransactionLayer } from '../../../protocols/sip/transaction/index.ts';
import { BadNotifyRequest, nextHop, notifySpec } from './notifyMessage.ts';
import { decideAttempt, type DeliveryOutcome, type RetryPolicy } from './policy.ts';
import { Semaphore } from './scheduling.ts';

export interface DeliveryResult {
  readonly outcome: DeliveryOutcome;
  readonly statusCode: number | null;
  readonly attempts: number;
  readonly reason: string | null;
  /** The NOTIFY as (last) sent, for dead letters; empty when it could not be built. */
  readonly bytes: Buffer;
}

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
}

export class StoppedError extends Error {
  constructor() {
    super('notify sink stopping');
    this.name = 'StoppedError';
  }
}

export class NotifyDeliverer {
  readonly stats = { attempts: 0, retries: 0, byOutcome: { delivered: 0, gone: 0, 'gave-up': 0, rejected: 0 } as Record<DeliveryOutcome, number> };
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: DelivererOptions) {
    this.sleep = o.sleep ?? realSleep;
  }

  /** Resolves with the final outcome; rejects only with StoppedError when the sink stops mid-way. */
  async deliver(n: NotifyRequest): Promise<DeliveryResult> {
    const r = await this.run(n);
    this.stats.byOutcome[r.outcome]++;
    return r;
  }

  private async run(n: NotifyRequest): Promise<DeliveryResult> {
    let spec;
    let target;
    let bytes: Buffer = Buffer.alloc(0);
    try {
      spec = notifySpec(n, { contact: this.o.contact, ...(this.o.maxForwards !== undefined ? { maxForwards: this.o.maxForwards } : {}) });
      target = nextHop(n);
      // The bytes for a dead letter (the branch differs per attempt; the rest is what went out).
      bytes = serialize(buildRequest(spec, this.o.layer.via(target.transport)));
    } catch (err) {
      const why = err instanceof BadNotifyRequest ? err.message : `cannot build NOTIFY: ${(err as Error).message}`;
      return { outcome: 'rejected', statusCode: null, attempts: 0, reason: why, bytes };
    }
    for (let attempt = 1; ; attempt++) {
      if (this.o.stopping?.()) throw new StoppedError();
      const outcome = await this.o.semaphore.with(async () => {
        this.stats.attempts++;
        return this.o.layer.request(spec, target).outcome;
      });
      if (this.o.stopping?.()) throw new StoppedError();
      const d = decideAttempt(outcome, attempt, this.o.policy);
      if (d.kind === 'final') return { outcome: d.outcome, statusCode: d.statusCode, attempts: attempt, reason: d.reason, bytes };
      this.stats.retries++;
      await this.sleep(d.delayMs);
    }
  }
}
