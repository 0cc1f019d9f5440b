// The front end's half of the PUBLISH request/reply through Kafka: sends
// PublishRequests (keyed by presentity, so the owning event manager gets
// them) and waits for the PublishResponse addressed to this front end on
// publish-responses — read with read_committed, so an answer is seen only
// once the event manager's transaction (state change + NOTIFYs + answer)
// committed. A plain assigned consumer (no group: every front end reads
// every partition from where it stood at start, keeping only its own
// answers); answers that come after the wait gave up are dropped.
import Kafka from 'node-rdkafka';
import type { PublishRequest, PublishResponse } from '../schemas/generated/records.ts';
import { asError, connectConsumer, disconnect, type Consumer } from '../kafka/rdkafkaPromises.ts';
import { consumeOrRetry, highWatermark, partitionCount } from '../kafka/assignedConsumer.ts';
import { PublishUnansweredError, type PublishService } from './publishHandler.ts';
import { rdkafkaSecurity } from '../kafka/kafkaSecurity.ts';
import { routeClientLog } from '../kafka/clientLog.ts';

interface PublishRepliesOptions {
  readonly brokers: string;
  /** publish-requests topic (prefixed). */
  readonly requestTopic: string;
  /** publish-responses topic (prefixed). */
  readonly responseTopic: string;
  readonly frontEndId: string;
  /**
   * Starts the reader's group id: `<topic prefix>sip-front-replies-` (schemas/roleAccess.ts readerGroups),
   * which an authorizer's prefix ACL lets the SIP edge's user use.
   */
  readonly groupIdPrefix: string;
  /** Sends a request record; resolves once the broker has it (acks=all). */
  readonly send: (topic: string, key: string, value: PublishRequest) => Promise<unknown>;
  readonly decode: (value: Buffer) => Promise<PublishResponse>;
  /** How long to wait for the event manager's answer (below SIP Timer F, 32 s). */
  readonly timeoutMs: number;
  readonly log?: (line: string) => void;
}

interface PublishStats {
  /** Initial publications stored and answered by the front end itself. */
  stored: number;
  submitted: number;
  answered: number;
  /** No answer in time (answered 500). */
  unanswered: number;
  /** Kafka did not take the request (answered 500), either kind. */
  sendFailures: number;
  /** Answers that arrived after their wait ended. */
  late: number;
}

interface Waiter {
  resolve: (r: PublishResponse) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class PublishReplies implements PublishService {
  readonly stats: PublishStats = { stored: 0, submitted: 0, answered: 0, unanswered: 0, sendFailures: 0, late: 0 };
  // By requestId: a retry of a PUBLISH has its original's id (publishHandler.ts), and both may be waiting.
  private readonly waiters = new Map<string, Waiter[]>();
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly consumer: Consumer,
    private readonly o: PublishRepliesOptions,
  ) {}

  /** Connects and assigns every partition of publish-responses at its current end, before any request can be sent. */
  static async start(o: PublishRepliesOptions): Promise<PublishReplies> {
    const consumer = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': o.brokers,
        ...rdkafkaSecurity(),
        'client.id': `sip-front-${o.frontEndId}-replies`,
        // Required by librdkafka; never joined (assign, no subscribe) and never committed.
        'group.id': `${o.groupIdPrefix}${o.frontEndId}-${process.pid}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        // An answer is waited for by a SIP client: do not let the broker sit on a fetch (a
        // commit marker does not end a parked fetch early; 20 ms cost ~17 ms more per PUBLISH than 5 ms, measured).
        'fetch.wait.max.ms': 10,
        // consume(n) waits up to its timeout for more after a message; an EOF cuts that to 1 ms (node-rdkafka's ConsumeNum).
        'enable.partition.eof': true,
        'socket.keepalive.enable': true,
      } as Kafka.ConsumerGlobalConfig,
      { 'auto.offset.reset': 'latest' },
    );
    routeClientLog(consumer, 'publish-replies');
    try {
      await connectConsumer(consumer, 15_000);
      const partitions = await partitionCount(consumer, o.responseTopic);
      const ends = await Promise.all(Array.from({ length: partitions }, (_, p) => highWatermark(consumer, o.responseTopic, p)));
      consumer.assign(ends.map((offset, partition) => ({ topic: o.responseTopic, partition, offset })));
      consumer.setDefaultConsumeTimeout(100);
    } catch (err) {
      await disconnect(consumer);
      throw new Error(`cannot read ${o.responseTopic} at ${o.brokers}: ${asError(err).message}`, { cause: err });
    }
    const replies = new PublishReplies(consumer, o);
    replies.loop = replies.run();
    return replies;
  }

  private async run(): Promise<void> {
    const key = Buffer.from(this.o.frontEndId);
    while (this.running) {
      const batch = await consumeOrRetry(this.consumer, 500, {
        running: () => this.running,
        retryMs: 500,
        onError: (err) => this.o.log?.(`reading ${this.o.responseTopic} failed (retrying): ${err.message}`),
      });
      for (const m of batch) {
        // Keyed by front-end id: other front ends' answers are skipped without decoding.
        if (!m.key || !key.equals(m.key as Buffer) || !m.value) continue;
        let r: PublishResponse;
        try {
          r = await this.o.decode(m.value);
        } catch (err) {
          this.o.log?.(`undecodable answer on ${this.o.responseTopic}[${m.partition}]@${m.offset}: ${asError(err).message}`);
          continue;
        }
        if (r.frontEnd !== this.o.frontEndId) continue;
        const ws = this.waiters.get(r.requestId);
        if (!ws) {
          this.stats.late++;
          continue;
        }
        this.waiters.delete(r.requestId);
        for (const w of ws) {
          clearTimeout(w.timer);
          this.stats.answered++;
          w.resolve(r);
        }
      }
    }
  }

  async store(key: string, request: PublishRequest): Promise<void> {
    if (!this.running) throw new Error('the front end is stopping');
    try {
      await this.o.send(this.o.requestTopic, key, request);
      this.stats.stored++;
    } catch (err) {
      this.stats.sendFailures++;
      throw asError(err);
    }
  }

  submit(key: string, request: PublishRequest): Promise<PublishResponse> {
    this.stats.submitted++;
    return new Promise<PublishResponse>((resolve, reject) => {
      if (!this.running) return reject(new Error('the front end is stopping'));
      // Waiting starts before sending: the answer can come back before send() resolves.
      const timer = setTimeout(() => {
        if (!this.forget(request.requestId, waiter)) return;
        this.stats.unanswered++;
        reject(new PublishUnansweredError(request.requestId, this.o.timeoutMs));
      }, this.o.timeoutMs);
      const waiter: Waiter = { resolve, reject, timer };
      this.waiters.set(request.requestId, [...(this.waiters.get(request.requestId) ?? []), waiter]);
      this.o.send(this.o.requestTopic, key, request).catch((err: unknown) => {
        if (!this.forget(request.requestId, waiter)) return;
        clearTimeout(timer);
        this.stats.sendFailures++;
        reject(asError(err));
      });
    });
  }

  /** Drops one wait; false when it was already settled. */
  private forget(requestId: string, waiter: Waiter): boolean {
    const ws = this.waiters.get(requestId);
    if (!ws?.includes(waiter)) return false;
    const rest = ws.filter((w) => w !== waiter);
    if (rest.length > 0) this.waiters.set(requestId, rest);
    else this.waiters.delete(requestId);
    return true;
  }

  /** Pending waits fail (their PUBLISHes are answered 500), then the consumer leaves. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const [id, ws] of this.waiters) {
      for (const w of ws) {
        clearTimeout(w.timer);
        w.reject(new Error(`front end stopped while PUBLISH ${id} was pending`));
      }
    }
    this.waiters.clear();
    await this.loop.catch(() => {});
    await disconnect(this.consumer);
  }
}
