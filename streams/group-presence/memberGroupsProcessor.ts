// The subscriber-partitioned half of the foreign-key join: per subscriber,
// the groups it belongs to and its last presence (store backed by the
// compacted group-membership-store-changelog). current-presence and
// group-memberships are co-partitioned by subscriber, so one member sees
// both. Each presence change fans out to the member's groups as
// group-member-presence records keyed by group; a join sends the current
// presence at once (Action 508: kept and served to later members), a leave
// sends member=false. A directory-changes tombstone (the subscriber deleted)
// drops it from all its groups and keeps a mark that refuses later joins.
import type { Settings } from '../../config/settings.ts';
import type { GroupMemberPresence, MemberGroupsState } from '../../schemas/generated/records.ts';
import { applyDeletion, applyMembership, applyPresence, applyProvisioned, isEmpty, newMemberGroups, type MemberOutcome } from './memberGroups.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName, type TopicName } from '../../schemas/topology.ts';
import { deadLetterForFailure } from '../../kafka/deadLetters.ts';
import { TransactionalProcessor, type InputRecord, type OutputRecord, type ProcessContext } from '../../kafka/transactionalProcessor.ts';
import { DEFAULT_FETCH_WAIT_MS, type ProcessorHooks } from './groupPresenceProcessor.ts';

const MEMBER_GROUPS_GROUP = 'presence-group-membership';
const COMPONENT = 'group-membership';

interface MemberGroupsStats {
  presence: number;
  memberships: number;
  deletions: number;
  fannedOut: number;
  deadLetters: number;
}

export async function startMemberGroupsProcessor(s: Settings, o: ProcessorHooks) {
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const t = (name: TopicName) => topicName(s.topics.prefix, name);
  const topics = { presence: t('current-presence'), memberships: t('group-memberships'), directory: t('directory-changes') };
  const stats: MemberGroupsStats = { presence: 0, memberships: 0, deletions: 0, fannedOut: 0, deadLetters: 0 };
  const emit = (mp: GroupMemberPresence, out: OutputRecord[]) => {
    out.push({ topic: t('group-member-presence'), key: mp.groupId, value: serde.encode('group-member-presence', mp) });
    stats.fannedOut++;
  };

  const process = async (batch: InputRecord[], ctx: ProcessContext<MemberGroupsState>): Promise<OutputRecord[]> => {
    const out: OutputRecord[] = [];
    const now = Date.now();
    for (const r of batch) {
      const origin = `${r.topic}[${r.partition}]@${r.offset}`;
      try {
        if (!r.key) throw new Error('record without a subscriber key');
        const store = ctx.store(r.partition);
        const committed = store.get(r.key);
        const st = committed ?? newMemberGroups(r.key, now);
        let res: MemberOutcome;
        if (r.topic === topics.presence) {
          stats.presence++;
          if (r.value === null) continue; // a removed subscriber's tombstone: its groups keep the last known presence
          // Subscribers in no group are kept too: a group they join later gets their presence at once.
          res = applyPresence(st, await serde.decode('current-presence', r.value), now);
        } else if (r.topic === topics.memberships) {
          stats.memberships++;
          if (!r.value) throw new Error('empty value');
          const m = await serde.decode('group-memberships', r.value);
          if (m.subscriber !== r.key) throw new Error(`membership of ${m.subscriber} under key ${r.key}`);
          res = applyMembership(st, m, now);
        } else if (r.topic === topics.directory) {
          // The directory's rows (Debezium, keyed by subscriber key): a tombstone is the subscriber's
          // deletion, any row its (re-)provisioning. The row's content does not matter here.
          if (r.value === null) {
            stats.deletions++;
            res = applyDeletion(st, now);
          } else res = applyProvisioned(st, now);
        } else {
          throw new Error(`unexpected input topic ${r.topic}`);
        }
        for (const mp of res.out) emit(mp, out);
        if (res.state === null) continue;
        if (isEmpty(res.state)) store.delete(r.key);
        else store.put(r.key, res.state);
      } catch (err) {
        // Only bad input is dead-lettered; a rebalance or an outage aborts the batch (rethrown).
        const letter = deadLetterForFailure(err, COMPONENT, 'group-membership', r, origin);
        stats.deadLetters++;
        out.push({ topic: t('dead-letters'), key: COMPONENT, value: serde.encode('dead-letters', letter) });
      }
    }
    return out;
  };

  const processor = new TransactionalProcessor<MemberGroupsState>({
    brokers: s.kafka.brokers,
    clientId: `group-membership-${o.memberId}`,
    groupId: `${s.topics.prefix}${MEMBER_GROUPS_GROUP}`,
    inputTopics: [topics.presence, topics.memberships, topics.directory],
    transactionalId: `${s.topics.prefix}group-membership-${o.memberId}`,
    consumerConfig: { 'fetch.wait.max.ms': o.fetchWaitMs ?? DEFAULT_FETCH_WAIT_MS },
    maxOutageMs: o.maxOutageMs ?? s.groupPresence.maxOutageS * 1000,
    log: o.log,
    store: {
      changelogTopic: t('group-membership-store-changelog'),
      encode: (st) => serde.encode('group-membership-store-changelog', st),
      decode: (b) => serde.decode('group-membership-store-changelog', b),
    },
    onRestored: (r) => o.log?.(`subscriber partition ${r.partition}: restored ${r.keys} members from ${r.records} changelog records in ${r.ms} ms`),
    process,
  });
  await processor.start();
  return { processor, stats };
}
