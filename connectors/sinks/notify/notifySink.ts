// The NOTIFY sink: consumes notify-requests, delivers each NOTIFY in its dialog
// (NotifyDeliverer), and for every outcome produces a DeliveryReport keyed by
// the presentity (gave-up/rejected also a dead letter with the NOTIFY bytes);
// the input offset is committed only after those records are acknowledged.
//
// Why a plain node-rdkafka consumer with manual commits and not the
// TransactionalProcessor: a NOTIFY is a side effect outside Kafka, so a
// transaction cannot make it exactly-once anyway (a re-run batch re-sends the
// NOTIFYs; watchers tolerate a repeated CSeq). And the processor commits whole
// batches: one dead watcher (Timer F 32 s × retries with backoff) would hold
// back every other dialog of its batch and exceed the transaction timeout —
// the head-of-line blocking we must avoid. So: at-least-once, with per
// partition commit points that advance over finished prefixes (OffsetTracker),
// reports committed (each in a short transaction: never twice for the event
// managers' read_committed inputs) before their offset is committed, dialogs running concurrently under a global bound.
//
// Back-pressure never stops polling (issue 12.4): with too many unfinished
// NOTIFYs the partitions are paused and consume() still runs, so the sink stays
// in its group (max.poll.interval.ms) instead of leaving it and having the
// next owner re-send everything. Only the commit point waits for dead watchers.
import Kafka from 'node-rdkafka';
import { Resolver } from 'node:dns/promises';
import os from 'node:os';
import type { Settings } from '../../../config/settings.ts';
import type { DeliveryReport, NotifyRequest } from '../../../schemas/generated/records.ts';
import { RecordSerde } from '../../../schemas/serde.ts';
import { topicName } from '../../../schemas/topology.ts';
import { deadLetter } from '../../../kafka/deadLetters.ts';
import { isOutage, outageLimitError } from '../../../kafka/errorClass.ts';
import { consumerConfig, consumerTopicConfig } from '../../../kafka/rdkafkaConfig.ts';
import { asError, connectConsumer, consumeBatch, disconnect, type Consumer, type Message } from '../../../kafka/rdkafkaPromises.ts';
import { TransactionalRecordWriter, writerTransactionalId } from '../../../kafka/transactionalRecordWriter.ts';
import { defaultMemberId, memberIds } from '../../../kafka/memberIdentity.ts';
import { applyGroupSession } from '../../../kafka/groupSession.ts';
import { leaveForGood, takeOverInstance } from '../../../kafka/staticMembership.ts';
import { TransactionLayer } from '../../../protocols/sip/transaction/index.ts';
import { SipServerLocator, SipTransport, type SipDnsResolver, type SipTlsOptions } from '../../../protocols/sip/transport/index.ts';
import { notifySinkTls } from '../../../config/sipTlsFiles.ts';
import { groupIdOf } from '../../../front-end/groupRoutes.ts';
import { NotifyDeliverer, StoppedError, type DeliveryResult } from './deliverer.ts';
import { dialogIdKey, notifyContact } from './notifyMessage.ts';
import { checkRetryPolicy, DEFAULT_RETRY_POLICY, type RetryPolicy } from './policy.ts';
import { DialogScheduler, OffsetTracker, Semaphore } from './scheduling.ts';
import { routeClientLog } from '../../../kafka/clientLog.ts';

const NOTIFY_SINK_GROUP = 'notify-sink';
const COMPONENT = 'notify-sink';

interface NotifySinkOptions {
  /** Where RFC 3263 NAPTR/SRV questions go (tests: a DNS server of their own); default node:dns with the settings' servers. */
  readonly dns?: SipDnsResolver;
  /**
   * How often finished offsets are committed, all partitions in one request (default 200 ms). A
   * commit per NOTIFY (thousands a second) queued the group heartbeats behind them until the
   * coordinator dropped the sink from its group, and the next owner re-sent everything.
   */
  readonly commitIntervalMs?: number;
  /** Stop (done() rejects with the reason) after the registry or the broker failed this long in a row; 0: retry on. Default: the setting notifySink.maxOutageS. */
  readonly maxOutageMs?: number;
  readonly host?: string;
  /** SIP port (UDP+TCP) the NOTIFYs go out from and responses come back to; 0 picks one. Default 5080. */
  readonly port?: number;
  /** Contact/Via host when it differs from the listening address (e.g. listening on 0.0.0.0). */
  readonly advertiseHost?: string;
  /** Contact URI of the NOTIFYs: the SIP front end's, where watchers send refreshes (default: this sink). */
  readonly contact?: string;
  /** RFC 3261 T1 in ms (Timer F = 64·T1 is 32 s at the default 500). */
  readonly t1Ms?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Concurrent SIP transactions over all dialogs. Default 256. */
  readonly maxConcurrent?: number;
  /** Per-dialog minimum interval between NOTIFYs; 0 = off. */
  readonly minIntervalMs?: number;
  /** Pause the partitions (still polling) while this many NOTIFYs are unfinished; resume below half. Default 10 000. */
  readonly maxPending?: number;
  /**
   * RFC 6665 rate control: a queued NOTIFY of a dialog superseded by a newer one
   * of the same dialog is skipped and reported `superseded` (full-state presence
   * documents only; group NOTIFYs carry partial state and are all sent).
   * true = keep only the latest queued one (maxQueuedPerDialog 1). Default false.
   */
  readonly coalesce?: boolean;
  /** Without coalesce: queued NOTIFYs kept per dialog before the oldest is superseded. Default 64. */
  readonly maxQueuedPerDialog?: number;
  /** A transaction unanswered this long leaves its slot for the slow lane (dead watchers). Default 200 ms. */
  readonly slowAfterMs?: number;
  /** Transactions in the slow lane at most. Default 4096. */
  readonly slowLimit?: number;
  readonly maxForwards?: number;
  /** Above this many bytes a NOTIFY for UDP goes over TCP (default settings.notifySink.udpMaxRequestBytes, 1300). */
  readonly udpMaxRequestBytes?: number;
  /** TLS to sips:/transport=tls Contacts: CA to verify watchers against, our client certificate (default from settings.notifySink.tls). */
  readonly tls?: SipTlsOptions;
  readonly groupId?: string;
  /**
   * Stable member id (kafka/memberIdentity.ts; the CLI defaults it to <hostname>-notify-sink-1): with it the
   * sink is a static member, so a restarted sink takes back exactly its partitions (kafka/staticMembership.ts).
   */
  readonly memberId?: string;
  /** Join as a dynamic member instead (a restart's partitions wait for the session timeout). */
  readonly dynamic?: boolean;
  readonly clientId?: string;
  /** librdkafka max.poll.interval.ms (default 300 000): a member that does not poll this long leaves the group. */
  readonly maxPollIntervalMs?: number;
  /** How long stop() waits for in-flight deliveries. Default 5 s. */
  readonly drainMs?: number;
  readonly log?: (line: string) => void;
}

interface NotifySinkStats {
  consumed: number;
  reports: number;
  deadLetters: number;
  undecodable: number;
  commits: number;
  produceRetries: number;
  /** Times back-pressure paused the partitions. */
  pauses: number;
}

const { CODES } = Kafka;
// consume(n) waits its timeout for EACH missing record and has no batch
// deadline, so one long timeout held records back until 500 had come or a
// lull of that length (~0.6 s p50 at 500 records/s, bench/RESULTS.md). So a
// batch is read in two steps: wait long for its first record (consume returns
// as soon as one arrives, so this costs no latency; it only sets how often an
// idle sink wakes up), then take without waiting what the consumer has
// already fetched. Under load the fetched queue is full and batches still fill.
const FIRST_RECORD_WAIT_MS = 200;
const REST_OF_BATCH_WAIT_MS = 0;
const MAX_BATCH = 500;

/** Sleeps that stop() can cut short, so a backoff does not keep a stopping process alive. */
class Sleeps {
  private readonly pending = new Map<NodeJS.Timeout, () => void>();

  sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.pending.delete(t);
        resolve();
      }, ms);
      this.pending.set(t, resolve);
    });

  wakeAll(): void {
    for (const [t, resolve] of this.pending) {
      clearTimeout(t);
      resolve();
    }
    this.pending.clear();
  }
}

/**
 * Whether a queued NOTIFY may be skipped for a newer one of its dialog (--coalesce). Not group NOTIFYs (RFC 4662),
 * dialog-info (RFC 4235 §4.1) nor watcher info (`*.winfo`, RFC 3858 §4): they carry partial state, so skipping one
 * would lose changes — even a full-state one, when only partial ones follow it. Presence NOTIFYs carry full state:
 * the newest says everything.
 */
export function mayBeSuperseded(n: Pick<NotifyRequest, 'presentity' | 'event'>): boolean {
  return groupIdOf(n.presentity) === undefined && n.event !== 'dialog' && !n.event.endsWith('.winfo');
}

export class NotifySink {
  readonly stats: NotifySinkStats = { consumed: 0, reports: 0, deadLetters: 0, undecodable: 0, commits: 0, produceRetries: 0, pauses: 0 };
  readonly deliverer: NotifyDeliverer;
  readonly scheduler: DialogScheduler;
  readonly semaphore: Semaphore;
  readonly layer: TransactionLayer;
  private readonly trackers = new Map<string, OffsetTracker>();
  /** Commit points reached and not yet committed, by topic\u0000partition. */
  private readonly dueCommits = new Map<string, number>();
  private commitTimer: NodeJS.Timeout | undefined;
  /** Partitions assigned now (topic\u0000partition): a record of any other was fetched before its revoke. */
  private readonly assigned = new Set<string>();
  private readonly consumer: Consumer;
  private running = false;
  private stopping = false;
  /** When decoding (registry) or reporting (broker) began failing without a success since. */
  private outageSince: number | undefined;
  /** Why the sink stopped on its own (the outage limit): done() rejects with it. */
  private failure: Error | undefined;
  private readonly maxOutageMs: number;
  private loop: Promise<void> | undefined;
  private readonly topics: { input: string; reports: string; groupReports: string; deadLetters: string };
  private readonly sleeps = new Sleeps();
  private readonly groupId: string;
  private readonly instanceId: string | undefined;
  /** Per assigned partition, its high watermark when assigned: records below it may have been sent by an earlier reader. */
  private readonly resentBelow = new Map<string, Promise<number>>();
  private paused = false;

  private constructor(
    s: Settings,
    readonly transport: SipTransport,
    private readonly serde: RecordSerde,
    private readonly producer: TransactionalRecordWriter,
    private readonly o: NotifySinkOptions,
    private readonly brokers = s.kafka.brokers,
  ) {
    const t = (n: 'notify-requests' | 'delivery-reports' | 'group-delivery-reports' | 'dead-letters') => topicName(s.topics.prefix, n);
    this.topics = { input: t('notify-requests'), reports: t('delivery-reports'), groupReports: t('group-delivery-reports'), deadLetters: t('dead-letters') };
    const advertise = o.advertiseHost ?? transport.host;
    this.layer = new TransactionLayer(
      transport,
      // A NOTIFY sink is a UAC only; a request reaching it is refused.
      { onRequest: (_req, tx) => void tx.respond(405, { headers: [['Allow', 'OPTIONS']] }).catch(() => {}) },
      {
        timers: {
          T1: o.t1Ms ?? 500,
          ...(o.t1Ms !== undefined ? { T2: Math.max(o.t1Ms, Math.min(4000, 8 * o.t1Ms)), T4: Math.max(o.t1Ms, Math.min(5000, 10 * o.t1Ms)) } : {}),
        },
        sentBy: { host: advertise, port: transport.port },
        udpMaxRequestBytes: o.udpMaxRequestBytes ?? s.notifySink.udpMaxRequestBytes,
      },
    );
    const policy = checkRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...o.retry });
    this.semaphore = new Semaphore(o.maxConcurrent ?? 256, { slowAfterMs: o.slowAfterMs ?? 200, slowLimit: o.slowLimit ?? 4096 });
    this.deliverer = new NotifyDeliverer({
      layer: this.layer,
      contact: notifyContact(o.contact ?? s.notifySink.contact, advertise, transport.port),
      ...(o.maxForwards !== undefined ? { maxForwards: o.maxForwards } : {}),
      policy,
      semaphore: this.semaphore,
      sleep: this.sleeps.sleep,
      stopping: () => this.stopping,
      locator: new SipServerLocator(o.dns ?? systemResolver(s.notifySink.dnsServers)),
    });
    this.scheduler = new DialogScheduler({
      minIntervalMs: o.minIntervalMs ?? 0,
      maxQueuedPerDialog: o.coalesce ? 1 : (o.maxQueuedPerDialog ?? 64),
      sleep: this.sleeps.sleep,
      onError: (e) => o.log?.(`delivery job failed: ${asError(e).message}`),
    });
    // librdkafka calls rebalance_cb with the consumer as `this`.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const ids = memberIds(s.topics.prefix, COMPONENT, o.memberId ?? defaultMemberId(COMPONENT));
    this.groupId = o.groupId ?? `${s.topics.prefix}${NOTIFY_SINK_GROUP}`;
    this.maxOutageMs = o.maxOutageMs ?? s.notifySink.maxOutageS * 1000;
    // Static only with an explicit member id (the CLI always gives one): two sinks of one process must not share a default.
    this.instanceId = o.memberId !== undefined && !o.dynamic ? ids.instanceId : undefined;
    this.consumer = new Kafka.KafkaConsumer(
      {
        ...consumerConfig(
          { brokers: s.kafka.brokers, clientId: o.clientId ?? ids.clientId },
          { groupId: this.groupId, ...(this.instanceId ? { instanceId: this.instanceId } : {}) },
          o.maxPollIntervalMs !== undefined ? { 'max.poll.interval.ms': o.maxPollIntervalMs } : {},
        ),
        rebalance_cb(this: Consumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]) {
          self.rebalance(this, err, assignment);
        },
      },
      consumerTopicConfig,
    );
    routeClientLog(this.consumer, o.clientId ?? ids.clientId);
  }

  static async start(s: Settings, o: NotifySinkOptions = {}): Promise<NotifySink> {
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    // Transactional: the event managers read delivery-reports exactly once, and an idempotent producer
    // can write a record twice across an epoch bump (issue 12).
    const producer = new TransactionalRecordWriter({
      brokers: s.kafka.brokers,
      clientId: `notify-sink-${os.hostname()}-${process.pid}`,
      transactionalId: writerTransactionalId(s.topics.prefix, 'notify-sink'),
      deliveryTimeoutMs: 15_000,
      ...(o.log ? { log: o.log } : {}),
    });
    await producer.connect();
    let transport: SipTransport | undefined;
    try {
      // Outgoing TLS for sips:/transport=tls Contacts: watchers' certificates verified (config/sipTlsFiles.ts).
      transport = await SipTransport.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 5080, tls: o.tls ?? notifySinkTls(s) });
      const sink = new NotifySink(s, transport, serde, producer, o);
      await applyGroupSession(s.kafka.brokers, sink.groupId, o.log);
      // A crashed predecessor's partitions come straight back to this sink, nobody else's move.
      if (sink.instanceId) await takeOverInstance(s.kafka.brokers, sink.groupId, sink.instanceId, o.log);
      await connectConsumer(sink.consumer).catch((e) => {
        throw new Error(`notify sink could not connect to Kafka at ${s.kafka.brokers}: ${asError(e).message}`);
      });
      sink.consumer.subscribe([sink.topics.input]);
      sink.running = true;
      sink.loop = sink.runLoop();
      sink.loop.catch(() => {}); // reported through done(), not as an unhandled rejection
      return sink;
    } catch (err) {
      await transport?.close();
      await producer.close();
      throw err;
    }
  }

  /** For /readyz: connected and consuming (start() resolved, not stopping). */
  get consuming(): boolean {
    return this.running && !this.stopping;
  }

  /** Partitions paused for back-pressure (maxPending reached). */
  get backPressured(): boolean {
    return this.paused;
  }

  get port(): number {
    return this.transport.port;
  }

  get inputTopic(): string {
    return this.topics.input;
  }

  /** Resolves when the consume loop ends; rejects with the error that ended it. */
  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private rebalance(consumer: Consumer, err: Kafka.LibrdKafkaError, assignment: Kafka.Assignment[]): void {
    const cooperative = consumer.rebalanceProtocol() === 'COOPERATIVE';
    try {
      if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        this.o.log?.(`assigned ${assignment.map((a) => `${a.topic}[${a.partition}]`).join(' ') || '(none)'}`);
        for (const a of assignment) {
          const key = `${a.topic}\u0000${a.partition}`;
          this.assigned.add(key);
          this.resentBelow.set(key, this.highWatermark(consumer, a.topic, a.partition));
        }
        if (cooperative) consumer.incrementalAssign(assignment);
        else consumer.assign(assignment);
        if (this.paused) consumer.pause(assignment); // back-pressure holds for new partitions too
      } else if (err.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
        this.o.log?.(`revoked ${assignment.map((a) => `${a.topic}[${a.partition}]`).join(' ') || '(none)'}`);
        // What they finished is committed while they are still ours. In-flight
        // NOTIFYs of revoked partitions still finish and report, but their
        // offsets are no longer ours to commit: the new owner re-reads from the
        // last commit (at-least-once; watchers accept a repeated CSeq).
        this.commitDue(new Set(assignment.map((a) => `${a.topic}\u0000${a.partition}`)));
        for (const a of assignment) {
          this.trackers.delete(`${a.topic}\u0000${a.partition}`);
          this.assigned.delete(`${a.topic}\u0000${a.partition}`);
          this.resentBelow.delete(`${a.topic}\u0000${a.partition}`);
        }
        if (cooperative) consumer.incrementalUnassign(assignment);
        else consumer.unassign();
      }
    } catch (e) {
      this.o.log?.(`rebalance handling failed: ${asError(e).message}`);
    }
  }

  /**
   * The partition's high watermark now: every record below it may already have
   * been sent by whoever read it before us. Unknown (query failed) counts as
   * "everything may have been sent" — the cautious side for a strict watcher's 500.
   */
  private highWatermark(consumer: Consumer, topic: string, partition: number): Promise<number> {
    return new Promise((resolve) => {
      try {
        consumer.queryWatermarkOffsets(topic, partition, 5000, (err, w) => resolve(err ? Number.MAX_SAFE_INTEGER : w.highOffset));
      } catch {
        resolve(Number.MAX_SAFE_INTEGER);
      }
    });
  }

  private async runLoop(): Promise<void> {
    const maxPending = this.o.maxPending ?? 10_000;
    while (this.running) {
      // Back-pressure by pausing, never by not polling: consume() below keeps
      // the member in its group while the slow dialogs hold their records.
      if (!this.paused && this.scheduler.pending >= maxPending) this.setPaused(true);
      else if (this.paused && this.scheduler.pending < maxPending / 2) this.setPaused(false);
      const messages = await this.nextBatch(Math.max(1, Math.min(MAX_BATCH, maxPending - this.scheduler.pending)));
      for (const m of messages) {
        if (!this.running) break;
        await this.accept(m);
      }
    }
    if (this.failure) throw this.failure;
  }

  /**
   * A dependency failed again: past maxOutageMs of failing without a success the sink
   * stops (returns true): its consume loop ends and done() rejects with the reason.
   * What was not reported is not committed, so a restarted sink delivers it.
   */
  private outageGoesOn(err: unknown): boolean {
    if (this.failure) return true;
    const now = Date.now();
    this.outageSince ??= now;
    if (this.maxOutageMs <= 0 || now - this.outageSince < this.maxOutageMs) return false;
    this.failure = outageLimitError(
      now - this.outageSince,
      this.maxOutageMs,
      asError(err),
      'what was not reported is not committed and is delivered after a restart',
      err,
    );
    this.o.log?.(this.failure.message);
    this.running = false;
    this.sleeps.wakeAll();
    return true;
  }

  private setPaused(paused: boolean): void {
    const parts = [...this.assigned].map((k) => {
      const [topic, partition] = k.split('\u0000') as [string, string];
      return { topic, partition: Number(partition) };
    });
    try {
      if (paused) this.consumer.pause(parts);
      else this.consumer.resume(parts);
      this.paused = paused;
      this.stats.pauses += paused ? 1 : 0;
      this.o.log?.(`${paused ? 'paused' : 'resumed'} ${parts.length} partition(s) at ${this.scheduler.pending} unfinished NOTIFYs`);
    } catch (err) {
      this.o.log?.(`${paused ? 'pause' : 'resume'} failed: ${asError(err).message}`);
    }
  }

  /** Up to `max` records: waits for the first, then takes only those already fetched (see FIRST_RECORD_WAIT_MS). */
  private async nextBatch(max: number): Promise<Message[]> {
    this.consumer.setDefaultConsumeTimeout(FIRST_RECORD_WAIT_MS);
    const first = await consumeBatch(this.consumer, 1);
    if (first.length === 0 || max <= 1) return first;
    this.consumer.setDefaultConsumeTimeout(REST_OF_BATCH_WAIT_MS);
    return first.concat(await consumeBatch(this.consumer, max - 1)); // max - 1 ≥ 1: consume(0) would start node-rdkafka's endless consume loop
  }

  /** Decodes a record and submits its delivery to the dialog's queue (in partition order). */
  private async accept(m: Message): Promise<void> {
    const tkey = `${m.topic}\u0000${m.partition}`;
    // Fetched before its partition was revoked: the new owner reads it from the last commit.
    if (!this.assigned.has(tkey)) return;
    this.stats.consumed++;
    let tracker = this.trackers.get(tkey);
    // A record at or below one already tracked: the partition is read again from its last
    // commit (eager re-assignment). Offsets must be tracked in order, so a fresh tracker takes
    // over; the old one's records still finish but commit nothing.
    if (tracker && tracker.lastTracked !== undefined && m.offset <= tracker.lastTracked) tracker = undefined;
    if (!tracker) this.trackers.set(tkey, (tracker = new OffsetTracker()));
    tracker.track(m.offset);
    const origin = `${m.topic}[${m.partition}]@${m.offset}`;
    const key = m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key.toString('utf8') : String(m.key);
    let n: NotifyRequest | undefined;
    try {
      if (!m.value) throw new Error('empty value');
      n = await this.decodeUntilAnswered(m.value);
      if (n === undefined) return; // stopping during a registry outage: not committed, re-read after restart
    } catch (err) {
      this.stats.undecodable++;
      const dl = deadLetter(
        COMPONENT,
        'avro',
        'malformed',
        `undecodable NotifyRequest: ${asError(err).message}`,
        m.value ?? Buffer.alloc(0),
        origin,
        key ? { key } : {},
      );
      this.scheduler.submit(`undecodable\u0000${tkey}`, async () => {
        await this.produceUntilTaken(this.topics.deadLetters, COMPONENT, this.serde.encode('dead-letters', dl));
        this.stats.deadLetters++;
        this.finish(tkey, tracker, m.offset);
      });
      return;
    }
    const sentBefore = m.offset < (await (this.resentBelow.get(tkey) ?? Promise.resolve(Number.MAX_SAFE_INTEGER)));
    // Revoked (or re-read from its commit): the new reader sends it; this one stops retrying.
    const abandoned = () => this.trackers.get(tkey) !== tracker;
    const run = async () => {
      let r: DeliveryResult;
      try {
        r = await this.deliverer.deliver(n, { sentBefore, abandoned });
      } catch (err) {
        if (err instanceof StoppedError) return; // not reported, not committed: re-read after restart
        throw err;
      }
      await this.report(n, r, origin);
      this.finish(tkey, tracker, m.offset);
    };
    // Partial-state packages (mayBeSuperseded: groups, dialog-info, watcher info) are never superseded.
    const superseded = async () => {
      if (abandoned()) return;
      await this.report(
        n,
        { outcome: 'superseded', statusCode: null, attempts: 0, reason: 'superseded by a newer NOTIFY of its dialog', bytes: Buffer.alloc(0) },
        origin,
      );
      this.finish(tkey, tracker, m.offset);
    };
    this.scheduler.submit(dialogIdKey(n), mayBeSuperseded(n) ? { run, superseded } : { run });
  }

  private async report(n: NotifyRequest, r: DeliveryResult, origin: string): Promise<void> {
    const report: DeliveryReport = {
      notifyId: n.notifyId,
      presentity: n.presentity,
      callId: n.callId,
      outcome: r.outcome,
      statusCode: r.statusCode,
      attempts: r.attempts,
      reason: r.reason,
      time: Date.now(),
      transport: r.transport ?? null,
    };
    // A group dialog's report goes to the group presence processor that holds it, keyed by the group id.
    const groupId = groupIdOf(n.presentity);
    const sent =
      groupId === undefined
        ? this.produceUntilTaken(this.topics.reports, n.presentity, this.serde.encode('delivery-reports', report))
        : this.produceUntilTaken(this.topics.groupReports, groupId, this.serde.encode('group-delivery-reports', report));
    const pending = [sent.then(() => void this.stats.reports++)];
    if (r.outcome === 'gave-up' || r.outcome === 'rejected') {
      const dl = deadLetter(
        COMPONENT,
        'sip',
        r.outcome === 'gave-up' ? 'undeliverable' : 'rejected',
        `NOTIFY ${n.notifyId} ${r.outcome}: ${r.reason ?? ''}`,
        r.bytes,
        origin,
        {
          notifyId: n.notifyId,
          presentity: n.presentity,
          callId: n.callId,
          cseq: String(n.cseq),
          requestUri: n.requestUri,
          outcome: r.outcome,
          attempts: String(r.attempts),
          ...(r.statusCode !== null ? { statusCode: String(r.statusCode) } : {}),
        },
      );
      pending.push(this.produceUntilTaken(this.topics.deadLetters, COMPONENT, this.serde.encode('dead-letters', dl)).then(() => void this.stats.deadLetters++));
    }
    await Promise.all(pending);
    this.o.log?.(
      `NOTIFY ${n.notifyId} (${n.callId} CSeq ${n.cseq}) → ${r.outcome}${r.statusCode !== null ? ` ${r.statusCode}` : ''} after ${r.attempts} attempt(s)`,
    );
  }

  /** A registry outage is not a bad record: decoding waits (with backoff) until the registry answers, or the sink stops. */
  private async decodeUntilAnswered(value: Buffer): Promise<NotifyRequest | undefined> {
    for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
      try {
        const n = await this.serde.decode('notify-requests', value);
        this.outageSince = undefined;
        return n;
      } catch (err) {
        if (!isOutage(err)) throw err;
        if (this.outageGoesOn(err) || !this.running) return undefined;
        this.o.log?.(`decoding a NotifyRequest needs the registry, which is unavailable; retrying in ${delay} ms: ${asError(err).message}`);
        await this.sleeps.sleep(delay);
      }
    }
  }

  /** Never drops: a record Kafka does not take is sent again (with backoff) until it is, or the sink stops. */
  private async produceUntilTaken(topic: string, key: string, value: Buffer): Promise<void> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.producer.send(topic, key, value);
        this.outageSince = undefined;
        return;
      } catch (err) {
        if (this.stopping || this.outageGoesOn(err)) throw new StoppedError();
        this.stats.produceRetries++;
        this.o.log?.(`producing to ${topic} failed, retrying in ${delay} ms: ${asError(err).message}`);
        await this.sleeps.sleep(delay);
      }
    }
  }

  private finish(tkey: string, tracker: OffsetTracker, offset: number): void {
    if (this.trackers.get(tkey) !== tracker) return; // revoked meanwhile
    const next = tracker.finish(offset);
    if (next === undefined) return;
    this.dueCommits.set(tkey, next);
    this.commitTimer ??= setTimeout(() => this.commitDue(), this.o.commitIntervalMs ?? 200);
  }

  /** Commits the due commit points (of `only` those partitions, when given) in one request. */
  private commitDue(only?: ReadonlySet<string>): void {
    if (!only) {
      clearTimeout(this.commitTimer);
      this.commitTimer = undefined;
    }
    const offsets: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const [tkey, offset] of this.dueCommits) {
      if (only && !only.has(tkey)) continue;
      this.dueCommits.delete(tkey);
      const [topic, partition] = tkey.split('\u0000') as [string, string];
      offsets.push({ topic, partition: Number(partition), offset });
    }
    if (offsets.length === 0) return;
    try {
      this.consumer.commit(offsets);
      this.stats.commits++;
    } catch (err) {
      this.o.log?.(`commit of ${offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).join(' ')} failed: ${asError(err).message}`);
    }
  }

  /** One line for logs. */
  statsLine(): string {
    const b = this.deliverer.stats.byOutcome;
    return (
      `consumed ${this.stats.consumed}, pending ${this.scheduler.pending} in ${this.scheduler.dialogCount} dialogs, transactions ${this.semaphore.inUse} (+${this.semaphore.waiting} waiting); ` +
      `delivered ${b.delivered}, gone ${b.gone}, gave-up ${b['gave-up']}, rejected ${b.rejected}; attempts ${this.deliverer.stats.attempts}, retries ${this.deliverer.stats.retries}, ` +
      `udp fallbacks ${this.deliverer.stats.udpFallbacks}, flow fallbacks ${this.deliverer.stats.flowFallbacks}, server failovers ${this.deliverer.stats.serverFailovers}, ` +
      `rate-limited ${this.scheduler.rateLimited}, superseded ${this.scheduler.superseded}, slow transactions ${this.semaphore.slow}, paused ${this.paused}; reports ${this.stats.reports}, dead letters ${this.stats.deadLetters}, undecodable ${this.stats.undecodable}, commits ${this.stats.commits}`
    );
  }

  /** Stops consuming, lets in-flight deliveries finish for up to drainMs, then closes everything. Unfinished records are re-read later. */
  async stop(): Promise<void> {
    if (!this.running && this.stopping) return;
    this.running = false;
    await this.loop?.catch(() => {});
    await Promise.race([this.scheduler.idle(), this.sleeps.sleep(this.o.drainMs ?? 5000)]);
    this.stopping = true;
    this.sleeps.wakeAll(); // backoffs end now; their jobs see `stopping` and leave their records uncommitted
    this.layer.close();
    this.commitDue();
    await disconnect(this.consumer);
    // librdkafka left "back soon" (static): hand the partitions to the other sinks now.
    if (this.instanceId)
      await leaveForGood(this.brokers, this.groupId, this.instanceId).catch((e) =>
        this.o.log?.(`could not release static instance ${this.instanceId}: ${asError(e).message}`),
      );
    await this.transport.close();
    await this.producer.close();
  }
}

export function startNotifySink(s: Settings, o: NotifySinkOptions = {}): Promise<NotifySink> {
  return NotifySink.start(s, o);
}

/** node:dns for RFC 3263, on the given servers (host or host:port) or the system's; a bounded wait so a silent server costs seconds, not a minute. */
function systemResolver(servers: readonly string[]): SipDnsResolver {
  const r = new Resolver({ timeout: 2000, tries: 2 });
  if (servers.length > 0) r.setServers([...servers]);
  return r;
}
