// `presence run event-manager`: a member of the event-manager consumer group.
// It owns the partitions — and so the subscribers — the group assigns it,
// keeps each subscriber's presence and watchers in a store restored from its
// changelog, and turns signaling events, SUBSCRIBEs and delivery reports into
// current-presence records and NOTIFY requests, exactly once.
import os from 'node:os';
import type { Settings } from '../../config/settings.ts';
import type { DeliveryReport, PublishRequest, SignalingEvent, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName, type TopicName } from '../../schemas/topology.ts';
import { ensureBrokersOffer } from '../../kafka/assignors/brokerAssignors.ts';
import { rackFor, type GroupAssignor } from '../../kafka/assignors/groupAssignor.ts';
import { deadLetter } from '../../kafka/deadLetters.ts';
import { TransactionalProcessor, type InputRecord, type OutputRecord, type ProcessContext } from '../../kafka/transactionalProcessor.ts';
import { WatcherRules } from './authorization/watcherRules.ts';
import { AvailabilityStore } from './availability/availabilitySettings.ts';
import type { AvailabilitySettings } from './presence/connectability.ts';
import { forUpdate, fromStateRecord, newSubscriber, toStateRecord, type ManagedSubscriber } from './managedSubscriber.ts';
import { apply } from './presence/derive.ts';
import { emptyPresence } from './presence/model.ts';
import { renderPresence } from './presence/presenceDocument.ts';
import { summary } from './presence/summary.ts';
import { advance, nextDue } from './presence/timers.ts';
import { applyPublishRequest } from './publish/publishRequest.ts';
import { applySubscribe, deliveryEndsSubscription, expireDialogs, forgetDialog, nextExpiry, notifyChange, type NotifyBody } from './subscriptions/watcherDialog.ts';
import { TimerIndex } from './timerIndex.ts';
import type { HandoffMode } from './handoff/handoffMode.ts';
import { resubscribeHooks } from './handoff/resubscribeHooks.ts';
import { startMembership, type Membership, type MembershipOptions } from './membership/membership.ts';

export const EVENT_MANAGER_GROUP = 'presence-event-managers';
const PIDF = 'application/pidf+xml';

export interface EventManagerOptions {
  memberId?: string;
  groupId?: string;
  protocol?: 'classic' | 'consumer';
  /** Static membership id (group.instance.id). */
  instanceId?: string;
  log?: (line: string) => void;
  /** Test hook: called before each batch is processed; throwing aborts the transaction. */
  beforeBatch?: (batch: InputRecord[]) => void;
  /** Schema of the authorization-rule and availability tables in the database (tests use their own). */
  rulesSchema?: string;
  punctuateIntervalMs?: number;
  /** Watchers' dialogs when partitions move (handoff/): default the setting PRESENCE_HANDOFF. */
  handoff?: HandoffMode;
  /** Own SIP contact and member reports (membership/): --sip-port, report interval, capacity. */
  membership?: MembershipOptions;
  /** KIP-848 server-side assignor (range, uniform, load): default the setting PRESENCE_ASSIGNOR. */
  assignor?: GroupAssignor;
}

export interface EventManager {
  processor: TransactionalProcessor<ManagedSubscriber>;
  stats: { signals: number; subscribes: number; reports: number; publishes: number; presenceChanges: number; notifies: number; timersFired: number; deadLetters: number };
  /** Resolves when the member stops; rejects with the error that stopped it. */
  done(): Promise<void>;
  stop(): Promise<void>;
  /** Its MemberReports and own SIP contact (membership/). */
  membership: Membership;
}

/** A dependency (PostgreSQL) failed, not the record: the batch is aborted and re-read, the record is not dead-lettered. */
class DependencyUnavailable extends Error {}

/** A closed, empty document: what a polite-blocked watcher sees. */
function politeDocument(key: string): NotifyBody {
  return { contentType: PIDF, body: renderPresence(emptyPresence(key)) };
}

export async function startEventManager(s: Settings, o: EventManagerOptions = {}): Promise<EventManager> {
  const memberId = o.memberId ?? `${os.hostname()}-${process.pid}`;
  const assignor = o.assignor ?? s.eventManager.assignor;
  // A broker lacking the assignor fails the member with a bare "Local: Fatal error": check first.
  if ((o.protocol ?? 'consumer') === 'consumer') await ensureBrokersOffer(s.kafka.brokers, assignor);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const rules = new WatcherRules(s.database.url, s.eventManager.defaultWatcherDecision, o.rulesSchema);
  await rules.migrate();
  const availabilityStore = new AvailabilityStore(s.database.url, o.rulesSchema);
  await availabilityStore.migrate();
  /** The current batch's subscribers' availability settings (one query per batch). */
  let availability = new Map<string, AvailabilitySettings>();
  const t = (name: TopicName) => topicName(s.topics.prefix, name);
  const topics = { signaling: t('signaling-events'), subscriptions: t('subscriptions'), reports: t('delivery-reports'), publishes: t('publish-requests') };
  const stats: EventManager['stats'] = { signals: 0, subscribes: 0, reports: 0, publishes: 0, presenceChanges: 0, notifies: 0, timersFired: 0, deadLetters: 0 };
  const timers = new Map<number, TimerIndex>();
  /** Newest event time seen per partition: the clock of timers in 'stream' mode. */
  const streamTime = new Map<number, number>();

  const clock = (p: number) => (s.eventManager.timerClock === 'wall' ? Date.now() : streamTime.get(p) ?? 0);
  const advanceStream = (p: number, ms: number) => {
    if (ms > (streamTime.get(p) ?? 0)) streamTime.set(p, ms);
  };
  const reschedule = (p: number, key: string, m: ManagedSubscriber) => {
    const due = [nextDue(m.presence), nextExpiry(m.watchers)].filter((x): x is number => typeof x === 'number');
    let index = timers.get(p);
    if (!index) timers.set(p, (index = new TimerIndex()));
    index.schedule(key, due.length ? Math.min(...due) : null);
  };

  /** After presence changed: current-presence, and NOTIFYs when the watchers' document changed. */
  const publish = (key: string, m: ManagedSubscriber, nowMs: number, cause: string | null, out: OutputRecord[]) => {
    stats.presenceChanges++;
    const current = summary(m.presence, { availability: availability.get(key) });
    out.push({ topic: t('current-presence'), key, value: serde.encode('current-presence', current) });
    if (current.pidf === m.notifiedPidf) return;
    m.notifiedPidf = current.pidf;
    for (const n of notifyChange(m.watchers, key, { contentType: PIDF, body: current.pidf }, politeDocument(key), nowMs, cause)) {
      out.push({ topic: t('notify-requests'), key, value: serde.encode('notify-requests', n) });
      stats.notifies++;
    }
  };

  const onSignal = (p: number, key: string, m: ManagedSubscriber, e: SignalingEvent, out: OutputRecord[]) => {
    stats.signals++;
    advanceStream(p, e.time);
    const r = apply(m.presence, e);
    if (!r.changed) return false;
    m.presence = r.state;
    publish(key, m, clock(p), e.eventId, out);
    return true;
  };

  const onSubscribe = async (p: number, key: string, m: ManagedSubscriber, sub: Subscription, out: OutputRecord[]) => {
    stats.subscribes++;
    advanceStream(p, sub.receivedAt);
    const decision = await rules.decide(sub.presentity, sub.watcherUri).catch((err: Error) => {
      throw new DependencyUnavailable(`watcher rules unavailable: ${err.message}`);
    });
    const body = m.notifiedPidf ?? renderPresence(m.presence);
    // The notifier's tag: the one the front end answered with, else stable per dialog.
    const localTag = sub.localTag ?? `em${Buffer.from(`${sub.callId}/${sub.watcherTag}`).toString('base64url').slice(0, 12)}`;
    const { notifies } = applySubscribe(m.watchers, sub, decision, { contentType: PIDF, body }, politeDocument(key), sub.receivedAt, localTag);
    if (m.notifiedPidf === null) m.notifiedPidf = body;
    for (const n of notifies) out.push({ topic: t('notify-requests'), key, value: serde.encode('notify-requests', n) });
    stats.notifies += notifies.length;
  };

  const onReport = (m: ManagedSubscriber, r: DeliveryReport) => {
    stats.reports++;
    // The watcher is gone, unreachable or refused the NOTIFY: the subscription ends without another NOTIFY.
    if (deliveryEndsSubscription(r.outcome)) return forgetDialog(m.watchers, r.callId);
    return false;
  };

  /** A handset's PUBLISH via a front end (publish/): the answer goes out in the same transaction as the state change. */
  const onPublish = (p: number, key: string, m: ManagedSubscriber, req: PublishRequest, out: OutputRecord[]) => {
    stats.publishes++;
    advanceStream(p, req.receivedAt);
    const r = applyPublishRequest(m.presence, req);
    out.push({ topic: t('publish-responses'), key: req.frontEnd, value: serde.encode('publish-responses', r.response) });
    if (!r.changed) return false;
    m.presence = r.state;
    publish(key, m, clock(p), req.requestId, out);
    return true;
  };

  const processBatch = async (batch: InputRecord[], ctx: ProcessContext<ManagedSubscriber>): Promise<OutputRecord[]> => {
    o.beforeBatch?.(batch);
    availability = await availabilityStore.getMany(batch.filter((r) => r.key && (r.topic === topics.signaling || r.topic === topics.publishes)).map((r) => r.key!));
    const out: OutputRecord[] = [];
    for (const r of batch) {
      membership?.meter.count(r.partition);
      const origin = `${r.topic}[${r.partition}]@${r.offset}`;
      try {
        if (!r.value || !r.key) throw new Error(r.key ? 'empty value' : 'record without a subscriber key');
        const store = ctx.store(r.partition);
        const stored = store.get(r.key);
        const m = stored ? forUpdate(stored) : newSubscriber(r.key);
        let dirty = true;
        if (r.topic === topics.signaling) dirty = onSignal(r.partition, r.key, m, await serde.decode('signaling-events', r.value), out);
        else if (r.topic === topics.subscriptions) await onSubscribe(r.partition, r.key, m, await serde.decode('subscriptions', r.value), out);
        else if (r.topic === topics.reports) dirty = onReport(m, await serde.decode('delivery-reports', r.value));
        else if (r.topic === topics.publishes) dirty = onPublish(r.partition, r.key, m, await serde.decode('publish-requests', r.value), out);
        if (dirty) {
          store.put(r.key, m);
          reschedule(r.partition, r.key, m);
        }
      } catch (err) {
        if (err instanceof DependencyUnavailable) throw err;
        stats.deadLetters++;
        out.push({
          topic: t('dead-letters'),
          key: 'event-manager',
          value: serde.encode('dead-letters', deadLetter('event-manager', 'event-manager', 'malformed', (err as Error).message, r.value ?? Buffer.alloc(0), origin, { key: r.key ?? '' })),
        });
      }
    }
    return out;
  };

  /** Timers: registration/publication expiry, stale state, stuck calls, subscription expiry. */
  const punctuate = async (_wallMs: number, ctx: ProcessContext<ManagedSubscriber>): Promise<OutputRecord[]> => {
    const out: OutputRecord[] = [];
    for (const p of ctx.partitions()) {
      const now = clock(p);
      const store = ctx.store(p);
      const due = timers.get(p)?.takeDue(now) ?? [];
      if (due.length) availability = await availabilityStore.getMany(due);
      for (const key of due) {
        const stored = store.get(key);
        if (!stored) continue;
        const m = forUpdate(stored);
        stats.timersFired++;
        const r = advance(m.presence, now);
        if (r.changed) {
          m.presence = r.state;
          publish(key, m, now, null, out);
        }
        const ended = expireDialogs(m.watchers, key, now);
        for (const n of ended) out.push({ topic: t('notify-requests'), key, value: serde.encode('notify-requests', n) });
        stats.notifies += ended.length;
        store.put(key, m);
        reschedule(p, key, m);
      }
    }
    return out;
  };

  /** A partition's timer index and stream time, from its committed (restored) state. */
  const rebuildTimers = (p: number) => {
    const index = new TimerIndex();
    timers.set(p, index);
    for (const [key, m] of processor.ctx.store(p).entries()) {
      if (m.presence.lastEventTime) advanceStream(p, m.presence.lastEventTime);
      const due = [nextDue(m.presence), nextExpiry(m.watchers)].filter((x): x is number => typeof x === 'number');
      if (due.length) index.schedule(key, Math.min(...due));
    }
  };

  const processor = new TransactionalProcessor<ManagedSubscriber>({
    brokers: s.kafka.brokers,
    clientId: `event-manager-${memberId}`,
    groupId: o.groupId ?? `${s.topics.prefix}${EVENT_MANAGER_GROUP}`,
    protocol: o.protocol,
    instanceId: o.instanceId,
    assignor,
    rack: rackFor(assignor, memberId),
    inputTopics: [topics.signaling, topics.subscriptions, topics.reports, topics.publishes],
    transactionalId: `${s.topics.prefix}event-manager-${memberId}`,
    log: o.log,
    store: {
      changelogTopic: t('event-manager-presence-store-changelog'),
      encode: (m) => serde.encode('event-manager-presence-store-changelog', toStateRecord(m)),
      decode: async (b) => fromStateRecord(await serde.decode('event-manager-presence-store-changelog', b)),
    },
    onRestored: (r) => {
      rebuildTimers(r.partition);
      o.log?.(`partition ${r.partition}: restored ${r.keys} subscribers from ${r.records} changelog records in ${r.ms} ms`);
    },
    // Resubscribe mode: dialogs end with terminated;reason=deactivated when their partition moves (handoff/).
    ...((o.handoff ?? s.eventManager.handoff) === 'resubscribe'
      ? resubscribeHooks({
          toRecord: (key, n) => ({ topic: t('notify-requests'), key, value: serde.encode('notify-requests', n) }),
          ended: (count, parts, why) => {
            stats.notifies += count;
            o.log?.(`resubscribe handoff: ended ${count} dialogs of partitions ${parts.join(',')} (${why})`);
          },
        })
      : {}),
    // The timer index followed writes that were just discarded: rebuild it from committed state.
    onAborted: () => {
      for (const p of processor.ctx.partitions()) rebuildTimers(p);
    },
    onAssigned: () => membership?.assignmentChanged(),
    onRevoked: (parts) => {
      membership?.assignmentChanged();
      for (const a of parts) {
        timers.delete(a.partition);
        streamTime.delete(a.partition);
      }
    },
    // Busy time of the member reports' utilization.
    process: (batch, ctx) => (membership ? membership.meter.timed(() => processBatch(batch, ctx)) : processBatch(batch, ctx)),
    punctuate,
    punctuateIntervalMs: o.punctuateIntervalMs ?? 1000,
  });
  let membership: Membership | undefined;
  await processor.start();
  /** Owned partitions (all input topics share partition numbers) → subscribers in their stores. */
  const owned = () => {
    const m = new Map<number, number>();
    for (const { partition } of processor.assignments()) {
      if (m.has(partition)) continue;
      let size = 0;
      try {
        size = processor.ctx.store(partition).size;
      } catch {
        // assigned, store not created yet
      }
      m.set(partition, size);
    }
    return m;
  };
  try {
    membership = await startMembership(s, memberId, serde, owned, o.membership, o.log);
  } catch (err) {
    await processor.stop();
    await rules.close();
    await availabilityStore.close();
    throw err;
  }
  const joined = membership;
  return {
    membership: joined,
    processor,
    stats,
    done: () => processor.done(),
    async stop() {
      await joined.leave();
      await processor.stop();
      await joined.close();
      await rules.close();
      await availabilityStore.close();
    },
  };
}
