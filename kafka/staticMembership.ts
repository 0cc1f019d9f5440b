// Static membership under KIP-848 (group.protocol=consumer), where the broker
// differs from the classic protocol in two ways that silenced a crashed
// member's subscribers for the whole session timeout (45 s by default):
//
//  - a restarted member with the same group.instance.id is refused
//    (UNRELEASED_INSTANCE_ID, fatal in librdkafka 2.12) until the crashed
//    member's session expires, unless that member left with epoch -2;
//  - a cleanly stopped static member leaves with epoch -2 ("back soon"), so its
//    partitions wait for the session timeout before anyone else gets them.
//
// So a member releases its own instance before joining (the heartbeat a
// crashed predecessor never sent: epoch -2 on its behalf; the newcomer then
// inherits exactly its assignment and nobody else's partitions move), and
// after a clean stop it removes its instance for good (epoch -1), so the
// others take its partitions at once. A predecessor that was only paused is
// fenced: its next heartbeat gets FENCED_INSTANCE_ID and its transactional
// id was taken over by the newcomer's producer.
import { describeConsumerGroup, KAFKA_ERRORS, KafkaProtocolError, LEAVE_EPOCH, leaveGroupAs, STATIC_LEAVE_EPOCH } from './consumerGroupAdmin.ts';

/** Releases `instanceId` held by a previous process of this member; returns the partitions it will inherit ('' when none). */
export async function takeOverInstance(brokers: string, groupId: string, instanceId: string, log?: (line: string) => void): Promise<string> {
  const group = await describeConsumerGroup(brokers, groupId);
  const previous = group?.members.find((m) => m.instanceId === instanceId);
  if (!previous) return '';
  const held = [...previous.assignment].map(([t, ps]) => `${t}[${ps.join(',')}]`).join(' ');
  if (previous.memberEpoch !== STATIC_LEAVE_EPOCH) {
    log?.(`static member ${instanceId}: releasing the instance from its previous process (member ${previous.memberId}, epoch ${previous.memberEpoch})`);
    await leaveGroupAs(brokers, groupId, previous.memberId, instanceId, STATIC_LEAVE_EPOCH).catch((e: unknown) => {
      // It left or was fenced meanwhile: the instance is free either way.
      if (e instanceof KafkaProtocolError && (e.code === KAFKA_ERRORS.unknownMemberId || e.code === KAFKA_ERRORS.fencedInstanceId)) return;
      throw e;
    });
  }
  log?.(`static member ${instanceId}: reclaiming ${held || '(no partitions)'}`);
  return held;
}

/** After a clean stop: removes the instance (left with epoch -2 by librdkafka) so its partitions move now. */
export async function leaveForGood(brokers: string, groupId: string, instanceId: string): Promise<void> {
  const group = await describeConsumerGroup(brokers, groupId);
  const me = group?.members.find((m) => m.instanceId === instanceId);
  if (!me) return;
  await leaveGroupAs(brokers, groupId, me.memberId, instanceId, LEAVE_EPOCH).catch((e: unknown) => {
    if (e instanceof KafkaProtocolError && (e.code === KAFKA_ERRORS.unknownMemberId || e.code === KAFKA_ERRORS.fencedInstanceId)) return;
    throw e;
  });
}
