// Whether the SIP front end can do its work: Kafka connected and taking records.
// Not ready, it answers OPTIONS and new requests 503 + Retry-After (sipFrontEnd.ts),
// which is how Kamailio's dispatcher (ds_ping) and load balancers take a target
// out; /readyz says the same with the reason.
//
// A record Kafka did not take marks it down at once (the next request should not
// wait its delivery timeout too); a probe of the brokers every few seconds marks it
// up again, since a front end answering 503 sends no records that could succeed.
import { brokerAnswers } from '../kafka/kafkaAdmin.ts';
import { KafkaUnavailableError } from '../kafka/recordProducer.ts';

export class KafkaReadiness {
  private down: string | undefined = 'not connected to Kafka yet';
  private connectedOnce = false;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(
    private readonly brokers: string,
    private readonly probeIntervalMs = 5000,
    private readonly probe: (brokers: string) => Promise<boolean> = brokerAnswers,
  ) {}

  /** Undefined when ready; else why not, for the 503 and /readyz. */
  get notReadyReason(): string | undefined {
    return this.down;
  }

  /** The producer (and readers) connected: ready, and from now on the brokers are probed. */
  connected(): void {
    this.connectedOnce = true;
    this.down = undefined;
    this.timer ??= setInterval(() => void this.check(), this.probeIntervalMs);
    this.timer.unref();
  }

  /** A connection attempt failed (the front end keeps answering 503 and retries). */
  connectFailed(detail: string): void {
    this.down = `cannot connect to Kafka at ${this.brokers}: ${detail}`;
  }

  /** A record was not taken: Kafka's fault marks it down until the probe sees the brokers again. */
  recordFailed(err: unknown): void {
    if (err instanceof KafkaUnavailableError) this.down = `Kafka at ${this.brokers} does not take records: ${err.message}`;
  }

  private async check(): Promise<void> {
    if (this.probing || !this.connectedOnce) return;
    this.probing = true;
    try {
      const ok = await this.probe(this.brokers).catch(() => false);
      this.down = ok ? undefined : `Kafka at ${this.brokers} does not answer`;
    } finally {
      this.probing = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
