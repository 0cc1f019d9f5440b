// What the console reads from Kafka, and how. The members topic is compacted,
// so it is mirrored from the beginning (the group as it stands); the flow
// topics are tailed from their end at start (the console shows what happens
// now, not history). Both are plain assigned consumers: no consumer group is
// joined and no offset is committed, so the console can never take partitions
// from the event managers or move their offsets. Kafka down is a state the
// page shows, not an error: the feed retries until it can read.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Kafka from 'node-rdkafka';
import type { Settings } from '../../config/settings.ts';
import type { Presence, PresenceState, SignalingEvent, StateWatcher } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName, type TopicName } from '../../schemas/topology.ts';
import { brokerAnswers } from '../../kafka/kafkaAdmin.ts';
import { groupLag } from '../../kafka/groupLag.ts';
import { CompactedTopicMirror } from '../../kafka/compactedTopicMirror.ts';
import { consumeOrRetry, highWatermark, partitionCount } from '../../kafka/assignedConsumer.ts';
import { rdkafkaSecurity } from '../../kafka/kafkaSecurity.ts';
import { asError, connectConsumer, disconnect, type Consumer, type Message } from '../../kafka/rdkafkaPromises.ts';
import { staleAfterMs } from '../../coordinator/memberReports.ts';
import { GroupView, type PartitionMove, type RestoreDone } from './groupView.ts';
import { FlowMeter } from './flowMeter.ts';
import { PresenceGroups } from './presenceGroups.ts';

export interface FeedStatus {
  /** connecting: first attempt under way; up: reading; down: Kafka does not answer or the topics are missing. */
  kafka: 'connecting' | 'up' | 'down';
  brokers: string;
  prefix: string;
  error: string | null;
  since: number;
}

/** A signaling event as the subscriber view lists it (the facts, without raw bodies). */
export interface SignalingSummary {
  eventId: string;
  time: number;
  protocol: string;
  message: string;
  kind: string;
  tap: string;
}

export interface PresenceSummary {
  subscriber: string;
  version: number;
  basic: string;
  networkState: string;
  callState: string;
  updatedAt: number;
}

/** A subscriber's watchers as its owning event manager holds them (its store's changelog): dialogs and their state. */
export interface WatcherList {
  subscriber: string;
  /** The store record's version (0: none found); a page keeps the highest it has seen. */
  version: number;
  updatedAt: number | null;
  watchers: StateWatcher[];
}

/** What a follower of one subscriber is told: name of the SSE event and its data. */
export type SubscriberEvent =
  | { event: 'presence'; data: Presence }
  | { event: 'notify' | 'delivery'; data: unknown }
  | { event: 'signaling'; data: SignalingSummary }
  | { event: 'watchers'; data: WatcherList };

const TAILED = [
  'signaling-events',
  'current-presence',
  'notify-requests',
  'delivery-reports',
  'dead-letters',
  'event-manager-presence-store-changelog',
] as const satisfies readonly TopicName[];

export function watcherList(subscriber: string, st: PresenceState | null): WatcherList {
  return st ? { subscriber, version: st.version, updatedAt: st.updatedAt, watchers: st.watchers } : { subscriber, version: 0, updatedAt: null, watchers: [] };
}

/** The event managers' lag: records of their input topics not yet committed by their group, per partition. */
export interface GroupLag {
  at: number;
  groupId: string;
  /** Summed over the input topics, by partition number. */
  partitions: number[];
  total: number;
}

export interface LagSource {
  /** The event managers' consumer group (its committed offsets are read, never written). */
  groupId: string;
  /** Its input topics, logical names. */
  topics: readonly TopicName[];
  /** How often the lag is read (default 5 s). */
  intervalMs?: number;
}

interface LiveFeedOptions {
  /** Pause between attempts to reach Kafka (default 3 s). */
  retryMs?: number;
  /** How often a connected feed checks that Kafka still answers (default 3 s). */
  healthMs?: number;
  lag?: LagSource;
  log?: (line: string) => void;
}

export class LiveFeed {
  readonly group: GroupView;
  readonly flow = new FlowMeter();
  /** Groups: the group service's records and group presence documents, mirrored from the beginning (both compacted). */
  readonly groups = new PresenceGroups();
  /** The newest presence changes of anyone, newest first: what moves on the page without a search. */
  readonly recentPresence: PresenceSummary[] = [];
  /** Flow records that did not decode (logged, skipped). */
  private undecodableFlow = 0;

  /** Records that did not decode, member reports included (e.g. the registry does not answer for an unknown schema id). */
  get undecodable(): number {
    return this.undecodableFlow + (this.mirror?.undecodable ?? 0) + this.groupMirrors.reduce((n, m) => n + m.undecodable, 0);
  }
  lag: GroupLag | null = null;
  status: FeedStatus;

  private readonly events = new EventEmitter();
  private readonly followers = new Map<string, Set<(e: SubscriberEvent) => void>>();
  readonly serde: RecordSerde;
  private running = false;
  private readonly stopping = new AbortController();
  private supervisor: Promise<void> | undefined;
  private mirror: CompactedTopicMirror | undefined;
  private groupMirrors: CompactedTopicMirror[] = [];
  private groupsCaughtUp = false;
  private tail: Consumer | undefined;
  private tailLoop: Promise<void> | undefined;
  private membersCaughtUp = false;
  private ticker: NodeJS.Timeout | undefined;
  private readonly topics: Map<string, (typeof TAILED)[number]>;
  private readonly log: (line: string) => void;

  constructor(
    private readonly s: Settings,
    private readonly o: LiveFeedOptions = {},
  ) {
    this.group = new GroupView(s.topics.partitions, staleAfterMs(s.eventManager.memberReportIntervalS * 1000));
    this.serde = new RecordSerde(s.registry.url, s.topics.prefix);
    this.status = { kafka: 'connecting', brokers: s.kafka.brokers, prefix: s.topics.prefix, error: null, since: Date.now() };
    this.topics = new Map(TAILED.map((t) => [topicName(s.topics.prefix, t), t]));
    this.log = o.log ?? (() => {});
    this.events.setMaxListeners(0);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.supervisor = this.supervise();
    // Reports go stale without any record arriving: owners are re-derived every second.
    this.ticker = setInterval(() => {
      const moves = this.group.tick(Date.now());
      if (moves.length && this.membersCaughtUp) this.events.emit('moves', moves);
    }, 1000);
    this.ticker.unref();
  }

  on(event: 'status', fn: (st: FeedStatus) => void): () => void;
  on(event: 'moves', fn: (moves: PartitionMove[]) => void): () => void;
  on(event: 'members', fn: () => void): () => void;
  on(event: 'lag', fn: (lag: GroupLag) => void): () => void;
  on(event: 'groups', fn: () => void): () => void;
  on(event: 'restored', fn: (done: RestoreDone[]) => void): () => void;
  on(event: string, fn: (...args: never[]) => void): () => void {
    const listener = fn as (...args: unknown[]) => void;
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  /** Calls `fn` with every record about one subscriber key until the returned function is called. */
  follow(key: string, fn: (e: SubscriberEvent) => void): () => void {
    let set = this.followers.get(key);
    if (!set) this.followers.set(key, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.followers.delete(key);
    };
  }

  private setStatus(kafka: FeedStatus['kafka'], error: string | null): void {
    if (this.status.kafka === kafka && this.status.error === error) return;
    this.status = { ...this.status, kafka, error, since: Date.now() };
    this.log(`console: Kafka ${kafka}${error ? `: ${error}` : ''}`);
    this.events.emit('status', this.status);
  }

  private async supervise(): Promise<void> {
    const retryMs = this.o.retryMs ?? 3000;
    while (this.running) {
      try {
        // A quick probe first, so a dead cluster is reported in a second or two, not after client time-outs.
        if (!(await brokerAnswers(this.s.kafka.brokers))) throw new Error(`Kafka at ${this.s.kafka.brokers} does not answer`);
        await this.connect();
        this.setStatus('up', null);
        if (this.o.lag) void this.pollLag(this.o.lag);
        break;
      } catch (err) {
        await this.disconnect();
        if (!this.running) return;
        this.setStatus('down', asError(err).message);
        await this.pause(retryMs);
      }
    }
    // Connected: the clients reconnect by themselves; the page is told while the cluster does not answer.
    while (this.running) {
      await this.pause(this.o.healthMs ?? 3000);
      if (!this.running) return;
      const ok = await brokerAnswers(this.s.kafka.brokers);
      this.setStatus(ok ? 'up' : 'down', ok ? null : `Kafka at ${this.s.kafka.brokers} does not answer`);
    }
  }

  /** Reads the group's committed offsets (OffsetFetch: read-only) against the topics' ends, while the feed runs. */
  private async pollLag(src: LagSource): Promise<void> {
    const topics = src.topics.map((t) => topicName(this.s.topics.prefix, t));
    while (this.running) {
      if (this.status.kafka === 'up') {
        try {
          const rows = await groupLag(this.s.kafka.brokers, src.groupId, topics);
          const partitions = new Array<number>(this.s.topics.partitions).fill(0);
          for (const r of rows) if (r.partition < partitions.length) partitions[r.partition]! += r.lag;
          this.lag = { at: Date.now(), groupId: src.groupId, partitions, total: partitions.reduce((a, b) => a + b, 0) };
          this.events.emit('lag', this.lag);
        } catch (err) {
          this.log(`console: reading the lag of ${src.groupId} failed: ${asError(err).message}`);
        }
      }
      await this.pause(src.intervalMs ?? 5000);
    }
  }

  /** A pause that stop() cuts short. */
  private pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => {});
  }

  private async connect(): Promise<void> {
    // Our own schema ids known up front; if the registry is down, decode() asks it per id later.
    await this.serde.loadIds().catch((err: unknown) => this.log(`console: schema ids not loaded yet (${asError(err).message})`));
    this.membersCaughtUp = false;
    this.mirror = await CompactedTopicMirror.open({
      brokers: this.s.kafka.brokers,
      topic: topicName(this.s.topics.prefix, 'event-manager-members'),
      clientId: `presence-console-${process.pid}`,
      groupIdPrefix: `presence-console-members-${process.pid}-`,
      follow: true,
      catchUpTimeoutMs: 20_000,
      fetchErrorBeforeCaughtUp: 'fail',
      connectTimeoutMs: 10_000,
      consumeTimeoutMs: 100,
      batchSize: 200,
      apply: async (memberId, value) => {
        const report = value ? await this.serde.decode('event-manager-members', value) : null;
        const moves = this.group.apply(memberId, report, Date.now());
        // Moves while reading the history are the past; only live ones are news.
        if (moves.length && this.membersCaughtUp) this.events.emit('moves', moves);
        const restored = this.group.restoresDone();
        if (restored.length && this.membersCaughtUp) this.events.emit('restored', restored);
        if (this.membersCaughtUp) this.events.emit('members');
      },
      log: this.log,
    });
    this.membersCaughtUp = true;
    this.events.emit('members');
    await this.openGroups();
    await this.openTail();
  }

  /** `groups` and `group-presence`, both compacted: the groups as they stand, then every change. */
  private async openGroups(): Promise<void> {
    this.groupsCaughtUp = false;
    const changed = (yes: boolean): void => {
      if (yes && this.groupsCaughtUp) this.events.emit('groups');
    };
    const open = (topic: 'groups' | 'group-presence', apply: (key: string, value: Buffer | null) => Promise<void>) =>
      CompactedTopicMirror.open({
        brokers: this.s.kafka.brokers,
        topic: topicName(this.s.topics.prefix, topic),
        clientId: `presence-console-${process.pid}`,
        groupIdPrefix: `presence-console-${topic}-${process.pid}-`,
        follow: true,
        catchUpTimeoutMs: 30_000,
        fetchErrorBeforeCaughtUp: 'fail',
        connectTimeoutMs: 10_000,
        consumeTimeoutMs: 200,
        batchSize: 200,
        apply,
        log: this.log,
      });
    // Groups are an extra: a cluster without the group topics still gets the rest of the console.
    const tryOpen = async (topic: 'groups' | 'group-presence', apply: (key: string, value: Buffer | null) => Promise<void>) => {
      try {
        this.groupMirrors.push(await open(topic, apply));
      } catch (err) {
        this.log(`console: ${topicName(this.s.topics.prefix, topic)} not readable, groups shown without it: ${asError(err).message}`);
      }
    };
    await tryOpen('groups', async (id, v) => changed(this.groups.applyGroup(id, v ? await this.serde.decode('groups', v) : null)));
    await tryOpen('group-presence', async (id, v) => changed(this.groups.applyPresence(id, v ? await this.serde.decode('group-presence', v) : null)));
    this.groupsCaughtUp = true;
    this.events.emit('groups');
  }

  /** Every partition of the flow topics, from the offset each ends at now. */
  private async openTail(): Promise<void> {
    const c: Consumer = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': this.s.kafka.brokers,
        ...rdkafkaSecurity(),
        'client.id': `presence-console-${process.pid}`,
        // librdkafka wants a group id even for assign(); unique, never joined, never committed to.
        'group.id': `presence-console-tail-${process.pid}-${randomUUID()}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        // What the event managers committed, as the sinks see it; aborted batches are not news.
        'isolation.level': 'read_committed',
        'socket.keepalive.enable': true,
      },
      { 'auto.offset.reset': 'latest' },
    );
    this.tail = c;
    await connectConsumer(c, 10_000).catch((e) => {
      throw new Error(`could not connect to Kafka at ${this.s.kafka.brokers}: ${asError(e).message}`);
    });
    const assignment: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const topic of this.topics.keys()) {
      const n = await partitionCount(c, topic);
      // Explicit end offsets, not OFFSET_END: a record written right after the feed reports "up" is seen.
      for (let partition = 0; partition < n; partition++) assignment.push({ topic, partition, offset: await highWatermark(c, topic, partition) });
    }
    c.setDefaultConsumeTimeout(200);
    c.assign(assignment);
    this.tailLoop = this.runTail(c);
  }

  private async runTail(c: Consumer): Promise<void> {
    while (this.running && this.tail === c) {
      const batch = await consumeOrRetry(c, 500, {
        running: () => this.running,
        retryMs: 1000,
        onError: (err) => this.log(`console: reading the flow topics failed, retrying: ${err.message}`),
      });
      for (const m of batch) await this.dispatch(m);
    }
  }

  private async dispatch(m: Message): Promise<void> {
    const topic = this.topics.get(m.topic);
    if (!topic || !m.value || m.value.length === 0) return;
    const key = m.key === undefined || m.key === null ? '' : m.key.toString();
    const now = Date.now();
    try {
      switch (topic) {
        case 'signaling-events': {
          const e = await this.serde.decode(topic, m.value);
          this.flow.signaling(e.protocol, e.message, now, e.source.tap);
          this.tell(key, { event: 'signaling', data: summary(e) });
          break;
        }
        case 'current-presence': {
          const p = await this.serde.decode(topic, m.value);
          this.flow.presence(now);
          this.recentPresence.unshift({
            subscriber: p.subscriber,
            version: p.version,
            basic: p.basic,
            networkState: p.networkState,
            callState: p.callState,
            updatedAt: p.updatedAt,
          });
          this.recentPresence.length = Math.min(this.recentPresence.length, 12);
          this.tell(key, { event: 'presence', data: p });
          break;
        }
        case 'notify-requests': {
          const n = await this.serde.decode(topic, m.value);
          this.flow.notify(now);
          this.tell(key, { event: 'notify', data: n });
          break;
        }
        case 'delivery-reports': {
          const d = await this.serde.decode(topic, m.value);
          this.flow.delivery(d.outcome, now, d.attempts);
          this.tell(key, { event: 'delivery', data: d });
          break;
        }
        case 'dead-letters':
          this.flow.deadLetter(await this.serde.decode(topic, m.value), now);
          break;
        case 'event-manager-presence-store-changelog':
          // Store records are large: decoded only for a subscriber someone follows.
          if (this.followers.has(key)) this.tell(key, { event: 'watchers', data: watcherList(key, await this.serde.decode(topic, m.value)) });
          break;
      }
    } catch (err) {
      // One bad record must not blind the console; say so now and then, not per record.
      if (this.undecodableFlow++ % 1000 === 0)
        this.log(`console: ${m.topic}[${m.partition}]@${m.offset} undecodable (${this.undecodableFlow} so far): ${asError(err).message}`);
    }
  }

  private tell(key: string, e: SubscriberEvent): void {
    const set = this.followers.get(key);
    if (set) for (const fn of set) fn(e);
  }

  private async disconnect(): Promise<void> {
    const tail = this.tail;
    this.tail = undefined;
    await this.tailLoop?.catch(() => {});
    this.tailLoop = undefined;
    if (tail) await disconnect(tail).catch(() => {});
    await this.mirror?.close();
    this.mirror = undefined;
    for (const m of this.groupMirrors.splice(0)) await m.close();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    clearInterval(this.ticker);
    await this.supervisor?.catch(() => {});
    await this.disconnect();
  }
}

function summary(e: SignalingEvent): SignalingSummary {
  return { eventId: e.eventId, time: e.time, protocol: e.protocol, message: e.message, kind: e.kind, tap: e.source.tap };
}
