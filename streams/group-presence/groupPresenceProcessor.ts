// The group-partitioned processor: per group, basic group information, the
// members' presence and the group watchers' dialogs, in a store backed by the
// compacted group-presence-store-changelog, exactly once (kafka).
// Inputs: groups, group-subscriptions, group-member-presence,
// group-delivery-reports (all keyed by group id, 6 partitions).
// Outputs: group-memberships (keyed by member: the foreign-key join's
// subscription side), notify-requests (key group:<id>), group-presence.
import type { Settings } from '../../config/settings.ts';
import type { GroupPresenceState } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { GROUP_DOCUMENT_MAX_BYTES, topicName, type TopicName } from '../../schemas/topology.ts';
import { deadLetterForFailure } from '../../kafka/deadLetters.ts';
import { TransactionalProcessor, type InputRecord, type OutputRecord, type ProcessContext } from '../../kafka/transactionalProcessor.ts';
import { applyGroupDeliveryReport, applyGroupSubscribe, expireGroupDialogs, notifyGroupChange } from './groupDialogs.ts';
import { applyGroup, applyMemberDeleted, applyMemberPresence, cloneState, groupPresentity, memberIndex, newGroupState } from './groupState.ts';
import { groupPresenceRecord, groupView, type GroupInfoCache, type GroupView } from './groupView.ts';

const GROUP_PRESENCE_GROUP = 'presence-group-presence';
const COMPONENT = 'group-presence';

interface GroupProcessorStats {
  groupRecords: number;
  memberPresence: number;
  subscribes: number;
  refused: number;
  reports: number;
  notifies: number;
  documents: number;
  memberships: number;
  deadLetters: number;
}

export interface ProcessorHooks {
  memberId: string;
  log?: (line: string) => void;
  punctuateIntervalMs?: number;
  /** Called after each group-presence document is produced (benchmarks: groupId, version, wall time). */
  onDocument?: (groupId: string, version: number) => void;
  /**
   * fetch.wait.max.ms of both consumers (librdkafka default 500 ms): bounds how long a
   * fetch that found nothing committed yet waits before asking again. A precaution for
   * the two-hop path; the benchmark did not show it mattering (bench/RESULTS.md).
   */
  fetchWaitMs?: number;
  /** Stop after this long of batches failing on an outage (kafka/processorTypes.ts maxOutageMs; 0: retry on). */
  maxOutageMs?: number;
}

export const DEFAULT_FETCH_WAIT_MS = 50;

/**
 * Only a group that never existed here (a SUBSCRIBE to an unknown id) leaves no state. A deleted
 * group keeps a small one (no members, no watchers): its document version and last group
 * version, so a group created again under the id continues with higher document versions
 * (newest-wins readers such as the group_presence table keep working even when they missed
 * the tombstone) and a replayed old group version does not bring it back.
 */
const isForgettable = (st: GroupPresenceState) => !st.exists && st.watchers.length === 0 && st.version === 0 && st.groupVersion === 0;

/** One group's work within a batch: a private copy of its state (the store's committed copy stays intact until commit). */
interface Work {
  partition: number;
  st: GroupPresenceState;
  index: Map<string, number>;
  info: boolean;
  presence: boolean;
  /** Members whose presence changed since the last flush. */
  changed: Set<string>;
  dirty: boolean;
  deleted: boolean;
  cause: string | null;
}

export async function startGroupPresenceProcessor(s: Settings, o: ProcessorHooks) {
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const t = (name: TopicName) => topicName(s.topics.prefix, name);
  const topics = { groups: t('groups'), subscriptions: t('group-subscriptions'), presence: t('group-member-presence'), reports: t('group-delivery-reports') };
  const infoCache: GroupInfoCache = new Map();
  const stats: GroupProcessorStats = {
    groupRecords: 0,
    memberPresence: 0,
    subscribes: 0,
    refused: 0,
    reports: 0,
    notifies: 0,
    documents: 0,
    memberships: 0,
    deadLetters: 0,
  };

  const notifyOut = (groupId: string, ns: ReturnType<typeof notifyGroupChange>, out: OutputRecord[]) => {
    for (const n of ns) out.push({ topic: t('notify-requests'), key: groupPresentity(groupId), value: serde.encode('notify-requests', n) });
    stats.notifies += ns.length;
  };

  /** Pending changes become NOTIFYs (info first, then presence: separate notifications) and one new document version. */
  const flush = (w: Work, now: number, out: OutputRecord[], view?: GroupView): GroupView | undefined => {
    if (!w.info && !w.presence) return view;
    const v = view ?? groupView(w.st, infoCache);
    // The information notification re-diffs every member but those whose presence changed too;
    // their presence notification follows, examining only them.
    if (w.info) notifyOut(w.st.groupId, notifyGroupChange(w.st, v, 'info', now, w.cause, w.presence ? w.changed : undefined), out);
    if (w.presence) notifyOut(w.st.groupId, notifyGroupChange(w.st, v, 'presence', now, w.cause, w.changed), out);
    w.info = w.presence = false;
    w.changed = new Set();
    w.dirty = true;
    w.st.version += 1;
    if (w.st.exists) {
      out.push({ topic: t('group-presence'), key: w.st.groupId, value: serde.encode('group-presence', groupPresenceRecord(w.st, v, now)) });
      stats.documents++;
      o.onDocument?.(w.st.groupId, w.st.version);
    } else {
      out.push({ topic: t('group-presence'), key: w.st.groupId, value: null }); // the group is gone: tombstone
    }
    return v;
  };

  const process = async (batch: InputRecord[], ctx: ProcessContext<GroupPresenceState>): Promise<OutputRecord[]> => {
    const out: OutputRecord[] = [];
    const work = new Map<string, Work>();
    const now = Date.now();
    const workOf = (p: number, key: string): Work => {
      let w = work.get(key);
      if (!w) {
        const committed = ctx.store(p).get(key);
        const st = committed ? cloneState(committed) : newGroupState(key, now);
        work.set(
          key,
          (w = { partition: p, st, index: memberIndex(st), info: false, presence: false, changed: new Set(), dirty: false, deleted: false, cause: null }),
        );
      }
      return w;
    };
    for (const r of batch) {
      const origin = `${r.topic}[${r.partition}]@${r.offset}`;
      try {
        if (!r.key) throw new Error('record without a group key');
        if (r.topic === topics.groups) {
          stats.groupRecords++;
          const g = r.value === null ? null : await serde.decode('groups', r.value);
          if (g !== null && g.groupId !== r.key) throw new Error(`groups record for ${g.groupId} under key ${r.key}`);
          const w = workOf(r.partition, r.key);
          flush(w, now, out); // member presence changes before this one go out on their own
          const res = applyGroup(w.st, g, now);
          for (const m of res.memberships) out.push({ topic: t('group-memberships'), key: m.subscriber, value: serde.encode('group-memberships', m) });
          stats.memberships += res.memberships.length;
          if (res.infoChanged) {
            infoCache.delete(r.key);
            w.index = memberIndex(w.st);
            w.info = true;
            w.cause = `group ${g?.version ?? 'deleted'}`;
          }
          continue;
        }
        if (!r.value) throw new Error('empty value');
        if (r.topic === topics.presence) {
          stats.memberPresence++;
          const mp = await serde.decode('group-member-presence', r.value);
          const w = workOf(r.partition, r.key);
          if (mp.deleted) {
            flush(w, now, out); // presence changes before it go out on their own, as before a groups record
            if (applyMemberDeleted(w.st, mp, now)) {
              infoCache.delete(r.key);
              w.index = memberIndex(w.st);
              w.info = true;
              w.cause = `subscriber ${mp.subscriber} deleted`;
            }
          } else if (applyMemberPresence(w.st, w.index, mp, now)) {
            w.presence = true;
            w.changed.add(mp.subscriber);
            w.cause = `presence ${mp.subscriber} v${mp.presenceVersion}`;
          }
        } else if (r.topic === topics.subscriptions) {
          stats.subscribes++;
          const sub = await serde.decode('group-subscriptions', r.value);
          const expected = groupPresentity(r.key);
          if (sub.presentity !== expected) throw new Error(`group SUBSCRIBE for presentity ${sub.presentity} under key ${r.key} (expected ${expected})`);
          const w = workOf(r.partition, r.key);
          const view = flush(w, now, out) ?? groupView(w.st, infoCache);
          const localTag = sub.localTag ?? `gp${Buffer.from(`${sub.callId}/${sub.watcherTag}`).toString('base64url').slice(0, 12)}`;
          const res = applyGroupSubscribe(w.st, view, sub, sub.receivedAt > 0 ? Math.max(now, sub.receivedAt) : now, localTag);
          if (res.refused) {
            stats.refused++;
            o.log?.(`group ${r.key}: SUBSCRIBE from ${sub.watcherUri} refused (${res.refused}${res.detail ? `: ${res.detail}` : ''})`);
          }
          notifyOut(r.key, res.notifies, out);
          w.dirty = true;
        } else if (r.topic === topics.reports) {
          stats.reports++;
          const w = workOf(r.partition, r.key);
          if (applyGroupDeliveryReport(w.st, await serde.decode('group-delivery-reports', r.value))) w.dirty = true;
        } else {
          throw new Error(`unexpected input topic ${r.topic}`);
        }
      } catch (err) {
        // Only bad input is dead-lettered; a rebalance or an outage aborts the batch (rethrown).
        const letter = deadLetterForFailure(err, COMPONENT, 'group-presence', r, origin);
        stats.deadLetters++;
        out.push({ topic: t('dead-letters'), key: COMPONENT, value: serde.encode('dead-letters', letter) });
      }
    }
    for (const [key, w] of work) {
      flush(w, now, out);
      if (!w.dirty) continue;
      const store = ctx.store(w.partition);
      if (isForgettable(w.st)) store.delete(key);
      else store.put(key, w.st);
    }
    return out;
  };

  const punctuate = (nowMs: number, ctx: ProcessContext<GroupPresenceState>): OutputRecord[] => {
    const out: OutputRecord[] = [];
    for (const p of ctx.partitions()) {
      const store = ctx.store(p);
      for (const [key, committed] of [...store.entries()]) {
        if (!committed.watchers.some((d) => d.expiresAt <= nowMs)) continue;
        const st = cloneState(committed);
        notifyOut(key, expireGroupDialogs(st, nowMs), out);
        if (isForgettable(st)) store.delete(key);
        else store.put(key, st);
      }
    }
    return out;
  };

  const processor = new TransactionalProcessor<GroupPresenceState>({
    brokers: s.kafka.brokers,
    clientId: `group-presence-${o.memberId}`,
    groupId: `${s.topics.prefix}${GROUP_PRESENCE_GROUP}`,
    inputTopics: [topics.groups, topics.subscriptions, topics.presence, topics.reports],
    transactionalId: `${s.topics.prefix}group-presence-${o.memberId}`,
    producerConfig: { 'message.max.bytes': GROUP_DOCUMENT_MAX_BYTES },
    consumerConfig: { 'fetch.wait.max.ms': o.fetchWaitMs ?? DEFAULT_FETCH_WAIT_MS },
    maxOutageMs: o.maxOutageMs ?? s.groupPresence.maxOutageS * 1000,
    log: o.log,
    store: {
      changelogTopic: t('group-presence-store-changelog'),
      encode: (st) => serde.encode('group-presence-store-changelog', st),
      decode: (b) => serde.decode('group-presence-store-changelog', b),
    },
    onRestored: (r) => o.log?.(`group partition ${r.partition}: restored ${r.keys} groups from ${r.records} changelog records in ${r.ms} ms`),
    process,
    punctuate,
    punctuateIntervalMs: o.punctuateIntervalMs ?? 1000,
  });
  await processor.start();
  return { processor, stats };
}
