// Whether a member of a consumer-protocol group (KIP-848) has joined when it was
// given nothing: librdkafka calls the rebalance callback only for a non-empty
// assignment under that protocol, so a member beside enough others (more members
// than partitions) would never learn it had joined. Until the callback or this says
// so, the member is not ready. Asks the group's coordinator (ConsumerGroupDescribe)
// once a second, and stops once joined; a failed look-up is asked again.
import { describeConsumerGroup } from './consumerGroupAdmin.ts';

export interface JoinWatchTarget {
  brokers: string;
  groupId: string;
  /** Matched first when set (static members); else the client id. */
  instanceId?: string | undefined;
  clientId: string;
}

/** Resolves when joined() holds, or when the coordinator lists the member with an epoch (so an assignment, maybe empty); `stopped()` ends it early. */
export async function watchGroupJoin(
  t: JoinWatchTarget,
  joined: () => boolean,
  markJoined: () => void,
  stopped: () => boolean,
  intervalMs = 1000,
): Promise<void> {
  while (!joined() && !stopped()) {
    await new Promise((r) => setTimeout(r, intervalMs));
    if (joined() || stopped()) return;
    const group = await describeConsumerGroup(t.brokers, t.groupId).catch(() => undefined);
    const me = group?.members.find((m) => (t.instanceId ? m.instanceId === t.instanceId : m.clientId === t.clientId));
    if (me && me.memberEpoch > 0) markJoined();
  }
}
