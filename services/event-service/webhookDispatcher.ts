// Push by webhook (issue 17 part 4): each pending delivery is an HTTP POST of the
// event's JSON, signed with HMAC-SHA256 over the exact body under the service's
// secret (X-Event-Signature: sha256=<hex>), the event id in X-Event-Id for the
// receiver's idempotency. A 2xx is "notified"; anything else (or no answer) is
// recorded with the answer and retried with exponential backoff. Deliveries are
// ordered per subscriber per service: only the oldest pending event of each
// (service, subscriber) is ever sent, so a receiver that was down gets what it
// missed, in order, when it comes back. One instance sends at a time (an
// advisory lock); others wait to take over.
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolClient } from 'pg';
import type { EventStore, PendingDelivery } from './eventStore.ts';

export interface WebhookOptions {
  /** First retry delay; doubles per failed attempt up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Time for the receiver to answer. */
  timeoutMs?: number;
  /** Queues sent to at once. */
  concurrency?: number;
  /** Idle poll interval (an ingest nudges it sooner). */
  pollMs?: number;
  log?: (line: string) => void;
}

export interface WebhookStats {
  delivered: number;
  failed: number;
  /** Rounds that could not read or write the database (retried). */
  storeFailures: number;
}

/** Answers kept in the log: enough to see why a receiver refused. */
const ANSWER_BODY_MAX = 512;

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function backoffMs(attempts: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(attempts, 30));
}

export class WebhookDispatcher {
  readonly stats: WebhookStats = { delivered: 0, failed: 0, storeFailures: 0 };
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly o: Required<Omit<WebhookOptions, 'log'>> & Pick<WebhookOptions, 'log'>;

  constructor(
    private readonly store: EventStore,
    o: WebhookOptions = {},
  ) {
    this.o = { baseBackoffMs: 500, maxBackoffMs: 60_000, timeoutMs: 5_000, concurrency: 8, pollMs: 500, ...o };
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** New events were logged: look now rather than at the next poll. */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let lock: PoolClient | undefined;
    while (this.running) {
      let sent = 0;
      try {
        if (lock)
          await lock.query('select 1'); // still holding it?
        else lock = await this.store.webhookLock();
        if (!lock) {
          await this.idle();
          continue;
        }
        const due = (await this.store.pendingWebhooks(1000)).filter((p) => p.due);
        for (let i = 0; i < due.length && this.running; i += this.o.concurrency) {
          await Promise.all(due.slice(i, i + this.o.concurrency).map((p) => this.deliver(p)));
          sent += Math.min(this.o.concurrency, due.length - i);
        }
      } catch (err) {
        this.stats.storeFailures++;
        this.o.log?.(`webhook round failed (database), retrying: ${(err as Error).message}`);
        // The lock's connection may be what failed: give it up and take it again.
        lock?.release(true);
        lock = undefined;
      }
      // After a round that sent something, the next event of each queue may be due at once.
      if (sent === 0 && this.running) await this.idle();
    }
    lock?.release(true); // closing the connection ends the session and its lock
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, this.o.pollMs);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async deliver(p: PendingDelivery): Promise<void> {
    const { cursor, ...event } = p.event;
    const body = JSON.stringify(event);
    let status: number | null = null;
    let answer: string;
    try {
      const res = await fetch(p.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-event-id': event.eventId,
          'x-event-type': event.type,
          'x-event-signature': signature(p.secret, body),
          'x-event-attempt': String(p.attempts + 1),
          'x-event-sequence': String(cursor),
        },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs),
        redirect: 'manual',
      });
      status = res.status;
      answer = (await res.text()).slice(0, ANSWER_BODY_MAX);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      answer = `no answer: ${e.cause?.code ?? e.name}: ${e.message}`.slice(0, ANSWER_BODY_MAX);
    }
    const ok = status !== null && status >= 200 && status < 300;
    if (ok) this.stats.delivered++;
    else this.stats.failed++;
    const retryIn = ok ? 0 : backoffMs(p.attempts, this.o.baseBackoffMs, this.o.maxBackoffMs);
    // The database down here means the answer is recorded on a later attempt: the receiver dedups by X-Event-Id.
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.store.webhookAnswered(p.service, cursor, ok, status, answer, retryIn);
        return;
      } catch (err) {
        this.stats.storeFailures++;
        if (!this.running) throw err;
        await sleep(delay);
      }
    }
  }
}
