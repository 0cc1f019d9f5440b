// `presence run event-manager`: a member of the event-manager consumer group.
// It owns the partitions — and so the subscribers — the group assigns it,
// keeps each subscriber's presence and watchers in a store restored from its
// changelog, and turns signaling events, SUBSCRIBEs and delivery reports into
// current-presence records and NOTIFY requests, exactly once.
import path from 'node:path';
import type { Settings } from '../../config/settings.ts';
import type { CheckpointOptions } from '../../kafka/stateCheckpointer.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import type { TopicName } from '../../schemas/topology.ts';
import { ensureBrokersOffer } from '../../kafka/assignors/brokerAssignors.ts';
import { rackFor, type GroupAssignor } from '../../kafka/assignors/groupAssignor.ts';
import { deadLetterForFailure } from '../../kafka/deadLetters.ts';
import { defaultMemberId, memberIds } from '../../kafka/memberIdentity.ts';
import { TransactionalProcessor, type InputRecord, type OutputRecord, type ProcessContext } from '../../kafka/transactionalProcessor.ts';
import { WatcherRules } from './authorization/watcherRules.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import type { UserProfiles } from '../../subscriber/availability/availabilityProfile.ts';
import { forUpdate, fromStateRecord, newSubscriber, toStateRecord, type ManagedSubscriber } from './managedSubscriber.ts';
import type { WatcherDecision } from './subscriptions/watcherDialog.ts';
import type { HandoffMode } from './handoff/handoffMode.ts';
import { resubscribeHooks } from './handoff/resubscribeHooks.ts';
import { startMembership, type Membership, type MembershipOptions } from './membership/membership.ts';
import { EventManagerContext, TIMER_REBUILD_CHUNK, type EventManagerStats, type TopicHandler } from './handlers/context.ts';
import { deliveryReports } from './handlers/deliveryReports.ts';
import { profileChanges } from './handlers/profileChanges.ts';
import { publishRequests } from './handlers/publishRequests.ts';
import { signalingEvents } from './handlers/signalingEvents.ts';
import { subscriptions } from './handlers/subscriptions.ts';
import { fireTimers } from './handlers/timers.ts';
import { subscriberDeletions } from './handlers/subscriberDeletions.ts';
import { watcherConsents } from './handlers/watcherConsents.ts';

export const EVENT_MANAGER_GROUP = 'presence-event-managers';

export interface EventManagerOptions {
  memberId?: string;
  groupId?: string;
  protocol?: 'classic' | 'consumer';
  /** Static membership id (group.instance.id): the CLI passes the member id (kafka/staticMembership.ts). */
  instanceId?: string;
  log?: (line: string) => void;
  /** Test hook: called (and awaited, when it returns a promise) before each batch is processed; throwing aborts the transaction. */
  beforeBatch?: (batch: InputRecord[]) => void | Promise<void>;
  /** Schema of the authorization-rule and availability tables in the database (tests use their own). */
  rulesSchema?: string;
  punctuateIntervalMs?: number;
  /** Watchers' dialogs when partitions move (handoff/): default the setting PRESENCE_HANDOFF. */
  handoff?: HandoffMode;
  /** Own SIP contact and member reports (membership/): --sip-port, report interval, capacity. */
  membership?: MembershipOptions;
  /** KIP-848 server-side assignor (range, uniform, load): default the setting PRESENCE_ASSIGNOR. */
  assignor?: GroupAssignor;
  /** Stop after this long of batches failing on an outage (kafka/processorTypes.ts maxOutageMs; 0: retry on). */
  maxOutageMs?: number;
  /** Local state checkpoints: directory and interval (default: the settings; interval 0 turns them off). */
  checkpoints?: { dir: string; intervalS: number };
}

export interface EventManager {
  processor: TransactionalProcessor<ManagedSubscriber>;
  stats: EventManagerStats;
  /** Resolves when the member stops; rejects with the error that stopped it. */
  done(): Promise<void>;
  stop(): Promise<void>;
  /** Its MemberReports and own SIP contact (membership/). */
  membership: Membership;
  /** Subscribers' availability profiles, as the batches see them (cached briefly; absent keys: the defaults): the member API's call-handling decision reads them. */
  profilesOf(keys: string[]): Promise<Map<string, UserProfiles>>;
  /** The presentity's rule for a watcher (its stored rule or the default; cached briefly): the member API's per-requester presence reads it. */
  watcherDecision(presentity: string, watcher: string): Promise<WatcherDecision>;
  /** Watchers' dialogs held in an owned partition (counted as written: the store is not scanned). */
  dialogsHeld(partition: number): number;
  /** Partitions whose timer index is still being rebuilt after a restore or an abort (their timers can only be late meanwhile). */
  timersIndexing(): number[];
}

/** Checkpoints per member under the state directory (two members on one host never share files); off with interval 0. */
function checkpointOptions(s: Settings, memberId: string, o?: { dir: string; intervalS: number }): { checkpoints?: CheckpointOptions } {
  const intervalS = o?.intervalS ?? s.eventManager.checkpointIntervalS;
  if (intervalS <= 0) return {};
  const dir = o?.dir ?? path.join(s.eventManager.stateDir, encodeURIComponent(memberId));
  return { checkpoints: { dir, intervalMs: intervalS * 1000, maxAgeMs: s.eventManager.checkpointMaxAgeS * 1000 } };
}

/** One handler per input topic (handlers/): the member consumes these topics. */
const HANDLERS: readonly TopicHandler[] = [
  signalingEvents,
  subscriptions,
  deliveryReports,
  publishRequests,
  profileChanges,
  watcherConsents,
  subscriberDeletions,
];
/** The topics the group consumes (e.g. for its lag, which the console shows). */
export const EVENT_MANAGER_INPUTS: readonly TopicName[] = HANDLERS.map((h) => h.topic);

export async function startEventManager(s: Settings, o: EventManagerOptions = {}): Promise<EventManager> {
  // Stable across restarts (kafka/memberIdentity.ts): the transactional id fences a crashed predecessor.
  const memberId = o.memberId ?? defaultMemberId('event-manager');
  const ids = memberIds(s.topics.prefix, 'event-manager', memberId);
  const assignor = o.assignor ?? s.eventManager.assignor;
  // A broker lacking the assignor fails the member with a bare "Local: Fatal error": check first.
  if ((o.protocol ?? 'consumer') === 'consumer') await ensureBrokersOffer(s.kafka.brokers, assignor);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const rules = new WatcherRules(s.database.url, s.eventManager.defaultWatcherDecision, o.rulesSchema);
  await rules.migrate();
  const availabilityStore = new AvailabilityStore(s.database.url, o.rulesSchema);
  await availabilityStore.migrate();
  /** What the topic handlers share (handlers/). */
  const ctx = new EventManagerContext(serde, rules, s.topics.prefix, s.eventManager.timerClock);
  ctx.locationMaxAgeMs = s.eventManager.locationMaxAgeS * 1000;
  ctx.locationMinIntervalMs = s.eventManager.locationMinIntervalS * 1000;
  // Profiles a change record carried serve this member's later batches (until the cache's TTL) without the database.
  ctx.profilesApplied = (key, profiles) => availabilityStore.prime(key, profiles);
  const { stats } = ctx;
  const t = (name: TopicName) => ctx.topic(name);
  const handlers = new Map(HANDLERS.map((h) => [t(h.topic), h]));

  const processBatch = async (batch: InputRecord[], stores: ProcessContext<ManagedSubscriber>): Promise<OutputRecord[]> => {
    if (o.beforeBatch) await o.beforeBatch(batch);
    ctx.availability = await availabilityStore.getMany(batch.filter((r) => r.key && handlers.get(r.topic)?.needsAvailability).map((r) => r.key!));
    const out: OutputRecord[] = [];
    for (const r of batch) {
      membership?.meter.count(r.partition);
      const origin = `${r.topic}[${r.partition}]@${r.offset}`;
      try {
        const handler = handlers.get(r.topic);
        if (!r.key || (!r.value && !handler?.handleTombstone)) throw new Error(r.key ? 'empty value' : 'record without a subscriber key');
        if (r.value && handler?.tombstonesOnly) continue; // e.g. the directory's initial snapshot: no store read per row
        const store = stores.store(r.partition);
        // The partition's duplicate window commits and rolls back with its store.
        store.enlist(ctx.duplicateWindow(r.partition));
        // A fresh decode of the committed bytes, or this batch's own write: changed in place, no copy.
        const m = store.getForUpdate(r.key, forUpdate) ?? newSubscriber(r.key);
        if (!r.value) {
          if (handler!.handleTombstone!(ctx, r.partition, r.key, m, out)) {
            store.delete(r.key);
            ctx.reschedule(r.partition, r.key, newSubscriber(r.key)); // no timers, no dialogs counted
          }
          continue;
        }
        const dirty = handler ? await handler.handle(ctx, r.partition, r.key, r.value, m, out) : true;
        if (dirty) {
          store.put(r.key, m);
          ctx.reschedule(r.partition, r.key, m);
        }
      } catch (err) {
        // Only bad input is dead-lettered; a rebalance or an outage aborts the batch (rethrown).
        const letter = deadLetterForFailure(err, 'event-manager', 'event-manager', r, origin);
        stats.deadLetters++;
        stats.deadLetterReasons[letter.reason] = (stats.deadLetterReasons[letter.reason] ?? 0) + 1;
        out.push({ topic: t('dead-letters'), key: 'event-manager', value: serde.encode('dead-letters', letter) });
      }
    }
    return out;
  };

  const processor = new TransactionalProcessor<ManagedSubscriber>({
    brokers: s.kafka.brokers,
    clientId: ids.clientId,
    groupId: o.groupId ?? `${s.topics.prefix}${EVENT_MANAGER_GROUP}`,
    protocol: o.protocol,
    instanceId: o.instanceId,
    assignor,
    rack: rackFor(assignor, memberId),
    inputTopics: [...handlers.keys()],
    transactionalId: ids.transactionalId,
    maxOutageMs: o.maxOutageMs ?? s.eventManager.maxOutageS * 1000,
    maxTaskIdleMs: s.eventManager.maxTaskIdleMs,
    maxBatch: s.eventManager.maxBatch,
    log: o.log,
    ...checkpointOptions(s, memberId, o.checkpoints),
    store: {
      changelogTopic: t('event-manager-presence-store-changelog'),
      encode: (m) => serde.encode('event-manager-presence-store-changelog', toStateRecord(m)),
      decode: async (b) => fromStateRecord(await serde.decode('event-manager-presence-store-changelog', b)),
      // Committed state stays in its changelog bytes, decoded per read (issue 15: heap per subscriber).
      compact: {
        decode: (b) => fromStateRecord(serde.decodeOwn('event-manager-presence-store-changelog', b)),
        isCurrent: (b) => serde.isOwn('event-manager-presence-store-changelog', b),
      },
    },
    onRestored: (r) => {
      const t0 = Date.now();
      // Live at once; its timers are indexed in the background (context.ts).
      void ctx.rebuildTimers(r.partition, processor.ctx).then(() => {
        if (r.keys > TIMER_REBUILD_CHUNK) o.log?.(`partition ${r.partition}: timers of ${r.keys} subscribers indexed in ${Date.now() - t0} ms`);
      });
      const from = r.checkpointEntries !== undefined ? ` (${r.checkpointEntries} from the local checkpoint, then the tail)` : '';
      o.log?.(`partition ${r.partition}: restored ${r.keys} subscribers from ${r.records} changelog records${from} in ${r.ms} ms`);
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
      for (const p of processor.ctx.partitions()) void ctx.rebuildTimers(p, processor.ctx);
    },
    onAssigned: () => {
      // A subscriber owned again may have changed while another member owned it: read its profiles afresh.
      availabilityStore.forgetCached();
      membership?.assignmentChanged();
    },
    onRevoked: (parts) => {
      membership?.assignmentChanged();
      for (const a of parts) ctx.forget(a.partition);
    },
    // Busy time of the member reports' utilization.
    process: (batch, stores) => (membership ? membership.meter.timed(() => processBatch(batch, stores)) : processBatch(batch, stores)),
    // Timers: registration/publication expiry, stale state, stuck calls, subscription expiry.
    punctuate: (_wallMs, stores) => fireTimers(ctx, availabilityStore, stores),
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
    membership = await startMembership(s, memberId, serde, owned, { ...o.membership, restoring: () => processor.restoreProgress() }, o.log);
    // An assignment that arrived while the first report was being built or sent found no membership
    // to tell: without this its partitions stayed unreported until the next interval.
    membership.assignmentChanged();
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
    profilesOf: (keys) => availabilityStore.getMany(keys),
    watcherDecision: (presentity, watcher) => rules.decide(presentity, watcher),
    dialogsHeld: (p) => ctx.dialogsHeld(p),
    timersIndexing: () => ctx.rebuildingTimers,
    async stop() {
      await joined.leave();
      await processor.stop();
      await joined.close();
      await rules.close();
      await availabilityStore.close();
    },
  };
}
