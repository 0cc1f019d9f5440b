// A producer for sources that are not Kafka (the taps): records are written in
// transactions of a few tens of milliseconds, so a read_committed reader sees each
// record exactly once whatever the broker does meanwhile.
//
// An idempotent producer alone does not promise that: when librdkafka bumps its
// epoch (a non-head-of-line OUT_OF_ORDER_SEQUENCE_NUMBER, an UNKNOWN_PRODUCER_ID,
// a queued message timing out — librdkafka INTRODUCTION.md, "Idempotent
// Producer"; confluentinc/librdkafka#4953) it renumbers every partition's queue
// from sequence 0, and a record the broker had appended but whose answer was lost
// (a broker killed between the two) is written a second time
// (test/integration/tapPublisherEpochBump.test.ts). A transactional producer
// turns each of those into an abortable error instead: the transaction is aborted
// (its records, the appended ones too, are never shown to read_committed readers)
// and its records are written again in a new one. A fatal error (the coordinator
// timed the transaction out during a long outage and fenced the epoch) is handled
// the same way with a new producer of the same transactional id, which aborts
// whatever the old one left open.
//
// The records of the open transaction are kept until it commits, so they can be
// written again; records sent while a transaction commits wait for the next one.
import Kafka from 'node-rdkafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientLog, routeClientLog } from './clientLog.ts';
import { abortRetrying } from './exactlyOnceProducer.ts';
import { producerTopicConfig, transactionalProducerConfig } from './rdkafkaConfig.ts';
import {
  abortTransaction,
  asError,
  beginTransaction,
  commitTransaction,
  connectProducer,
  disconnect,
  initTransactions,
  type Producer,
} from './rdkafkaPromises.ts';

export interface BatchRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  /** null: a tombstone (a compacted topic's delete). */
  readonly value: Buffer | null;
  readonly timestamp: number;
}

export interface TransactionalBatchOptions {
  readonly brokers: string;
  readonly clientId: string;
  /** Unique among the producers running at once; the same after a restart fences what a crashed predecessor left open. */
  readonly transactionalId: string;
  /** A transaction commits at the latest this long after it began: the latency a record gains (default 50 ms). */
  readonly commitIntervalMs?: number;
  /** ...or as soon as it holds this many records (default 10,000). */
  readonly maxBatch?: number;
  /** How long a transaction may keep failing (brokers down) before the producer fails with the reason (default 120 s). */
  readonly deliveryTimeoutMs?: number;
  /**
   * The coordinator aborts a transaction open longer than this. A crashed producer's open
   * transaction holds read_committed readers back until then, unless a successor with the
   * same transactional id fences it first (default 15 s, as the processors' transactions).
   */
  readonly transactionTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Makes a connected producer with transactions initialised (tests pass a fake); default node-rdkafka's. */
  readonly newProducer?: () => Promise<Producer>;
}

interface Waiter {
  readonly upTo: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** One abortTransaction call's time limit (see writeAgain). */
const ABORT_ATTEMPT_MS = 2000;

type Flags = { isRetriable?: boolean; isTxnRequiresAbort?: boolean; isFatal?: boolean };

/** librdkafka's advice per failure of a transactional call. */
function flags(err: unknown): Flags {
  return (err ?? {}) as Flags;
}

export class TransactionalBatchProducer {
  readonly stats = { transactions: 0, aborts: 0, resent: 0, restarts: 0 };
  private producer: Producer | undefined;
  /** Records produced into the open transaction: kept to be written again should it abort. */
  private open: BatchRecord[] = [];
  /** Records sent while no transaction takes them (one is committing): the next transaction's. */
  private queued: BatchRecord[] = [];
  private accepting = false;
  private sent = 0;
  private committed = 0;
  /** Records up to this count are waited for (drain): commit them without waiting out the interval. */
  private urgentUpTo = 0;
  private wakeDue: (() => void) | undefined;
  private produceError: unknown;
  private running: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  private failure: Error | undefined;
  private readonly commitIntervalMs: number;
  private readonly maxBatch: number;
  private readonly deliveryTimeoutMs: number;
  private readonly transactionTimeoutMs: number;

  constructor(private readonly o: TransactionalBatchOptions) {
    this.commitIntervalMs = o.commitIntervalMs ?? 50;
    this.maxBatch = o.maxBatch ?? 10_000;
    this.deliveryTimeoutMs = o.deliveryTimeoutMs ?? 120_000;
    this.transactionTimeoutMs = o.transactionTimeoutMs ?? 15_000;
  }

  /** Recoveries are worth an operator's eye: to the given log, else the Kafka clients' log sink. */
  private log(line: string): void {
    if (this.o.log) this.o.log(line);
    else clientLog('warn', line, this.o.clientId);
  }

  /** Records sent and not committed yet. */
  get uncommitted(): number {
    return this.sent - this.committed;
  }

  async connect(): Promise<void> {
    this.producer = await this.newProducer();
  }

  private async newProducer(): Promise<Producer> {
    if (this.o.newProducer) return this.o.newProducer();
    const p = new Kafka.Producer(
      transactionalProducerConfig({ brokers: this.o.brokers, clientId: this.o.clientId }, this.o.transactionalId, {
        'transaction.timeout.ms': this.transactionTimeoutMs,
        // Delivery reports are not needed (the commit reports for the batch): none to queue up unpolled.
        dr_cb: false,
      }),
      // A record waits for the brokers as long as its transaction may (then the batch is aborted and written again).
      { ...producerTopicConfig, 'message.timeout.ms': this.transactionTimeoutMs },
    );
    routeClientLog(p, this.o.clientId);
    try {
      await connectProducer(p, Math.min(this.deliveryTimeoutMs, 15_000));
      // Fences an older producer of this id and aborts what it left open.
      await initTransactions(p, Math.min(this.deliveryTimeoutMs, 30_000));
    } catch (err) {
      await disconnect(p).catch(() => {});
      throw err;
    }
    // Serves error and log callbacks.
    p.setPollInterval(100);
    return p;
  }

  /** Takes a record into the open transaction, or the next one; throws the failure that stopped the producer. */
  send(r: BatchRecord): void {
    if (this.failure) throw this.failure;
    this.sent++;
    if (!this.accepting) {
      this.queued.push(r);
      this.run();
      return;
    }
    this.open.push(r);
    this.produce(r);
    if (this.open.length >= this.maxBatch) this.wakeDue?.();
  }

  private produce(r: BatchRecord): void {
    try {
      this.producer!.produce(r.topic, null, r.value, r.key, r.timestamp);
    } catch (err) {
      // The record is in `open`: the transaction fails at its commit and is written again.
      this.produceError ??= err;
      this.wakeDue?.();
    }
  }

  /** The failure that stopped this producer (a new one must replace it), if any. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /**
   * Sends one record and resolves once its transaction committed, without waiting out the
   * interval (a caller answers a request on it); records sent meanwhile share the transaction.
   */
  sendCommitted(r: BatchRecord): Promise<void> {
    this.send(r);
    const upTo = this.sent;
    this.urgentUpTo = Math.max(this.urgentUpTo, upTo);
    this.wakeDue?.();
    return this.committedUpTo(upTo);
  }

  /** Resolves once every record sent so far is committed; commits without waiting out the interval. */
  flush(): Promise<void> {
    this.urgentUpTo = Math.max(this.urgentUpTo, this.sent);
    this.wakeDue?.();
    return this.committedUpTo(this.sent);
  }

  /** Resolves once at most `n` records are uncommitted (back-pressure for the sender). */
  uncommittedAtMost(n: number): Promise<void> {
    return this.committedUpTo(this.sent - n);
  }

  private committedUpTo(upTo: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.committed >= upTo) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo, resolve, reject }));
  }

  private run(): void {
    if (this.running || this.failure) return;
    this.running = this.cycle()
      .catch((err: unknown) => this.fail(asError(err)))
      .finally(() => {
        this.running = undefined;
        if (this.queued.length > 0) this.run();
      });
  }

  /** One transaction after another while records wait for one. */
  private async cycle(): Promise<void> {
    while (this.queued.length > 0) {
      const deadline = Date.now() + this.deliveryTimeoutMs;
      await this.begin(deadline);
      await this.due();
      this.accepting = false;
      await this.commit(deadline);
      this.committed += this.open.length;
      this.open = [];
      this.settle();
    }
  }

  private async begin(deadline: number): Promise<void> {
    try {
      await beginTransaction(this.producer!);
    } catch (err) {
      // A producer left in a fatal state: a new one (the records are still queued).
      await this.restart(deadline, err);
      await beginTransaction(this.producer!);
    }
    this.open = this.queued;
    this.queued = [];
    for (const r of this.open) this.produce(r);
    this.accepting = true;
  }

  /** The interval is over, the batch is full, someone waits for these records, or a record could not be queued. */
  private due(): Promise<void> {
    if (this.open.length >= this.maxBatch || this.urgentUpTo > this.committed || this.produceError !== undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeDue = undefined;
        resolve();
      };
      const timer = setTimeout(wake, this.commitIntervalMs);
      this.wakeDue = wake;
    });
  }

  /**
   * Commits the open transaction. librdkafka's advice per failure: a retriable one
   * (a timeout while the broker is away) — call commit again, it goes on in the
   * background; an abortable one — abort, write the batch again in a new
   * transaction; a fatal one — a new producer (same id: the old transaction is
   * aborted), the batch again. Until the deadline; then the producer fails.
   */
  private async commit(deadline: number): Promise<void> {
    let err: unknown;
    for (let attempt = 1; ; attempt++) {
      // A record librdkafka did not take is not in the transaction: never commit without it.
      if (err === undefined && this.produceError !== undefined) {
        err = this.produceError;
        this.produceError = undefined;
      }
      if (err === undefined) {
        try {
          await commitTransaction(this.producer!, Math.max(1000, Math.min(10_000, deadline - Date.now())));
          this.stats.transactions++;
          return;
        } catch (e) {
          err = e;
        }
      }
      const cause = err;
      err = undefined;
      const f = flags(cause);
      const message = asError(cause).message;
      if (Date.now() > deadline)
        throw new Error(`${this.open.length} records not committed within ${this.deliveryTimeoutMs} ms (are the brokers down?): ${message}`, { cause });
      if (f.isRetriable === true && f.isTxnRequiresAbort !== true && f.isFatal !== true) {
        this.log(`committing: ${message}; retrying (attempt ${attempt + 1})`);
        await sleep(Math.min(100 * attempt, 1000));
        continue;
      }
      this.log(`transaction of ${this.open.length} records failed (${message}): writing them again in a new transaction`);
      try {
        await this.writeAgain(f, deadline, cause);
      } catch (e) {
        err = e;
        await sleep(Math.min(250 * attempt, 2000));
      }
    }
  }

  /** Aborts (or, after a fatal error, replaces the producer), then produces the open records into a new transaction. */
  private async writeAgain(f: Flags, deadline: number, cause: unknown): Promise<void> {
    if (f.isFatal === true || !this.producer) await this.restart(deadline, cause);
    else {
      try {
        await abortRetrying(
          // Short attempts: an abort begun while a record was in flight purges only what was queued then; that
          // record, failed back into the queue (its connection lost), is not sent again and keeps the abort
          // waiting until its timeout (measured: the whole 10 s); the next attempt purges it.
          () => abortTransaction(this.producer!, ABORT_ATTEMPT_MS),
          () => Date.now() > deadline,
          (line) => this.log(line),
        );
      } catch (err) {
        if (flags(err).isFatal !== true) throw err;
        await this.restart(deadline, err);
      }
    }
    this.stats.aborts++;
    await beginTransaction(this.producer!);
    for (const r of this.open) this.produce(r);
    this.stats.resent += this.open.length;
  }

  private async restart(deadline: number, cause: unknown): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    if (old) await disconnect(old).catch(() => {});
    this.log(`producer failed for good (${asError(cause).message}): a new one with transactional id ${this.o.transactionalId}`);
    for (let attempt = 1; ; attempt++) {
      try {
        this.producer = await this.newProducer();
        this.stats.restarts++;
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        this.log(`new producer: ${asError(err).message}; retrying (attempt ${attempt + 1})`);
        await sleep(1000);
      }
    }
  }

  private settle(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.committed >= w.upTo) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
  }

  /** Commits what was sent, then disconnects; throws the failure if there was one. */
  async close(): Promise<void> {
    try {
      if (!this.failure && this.sent > this.committed) await this.flush();
      await this.running;
    } finally {
      const p = this.producer;
      this.producer = undefined;
      if (p) {
        p.setPollInterval(0);
        await disconnect(p);
      }
    }
    if (this.failure) throw this.failure;
  }
}
