// A crashed event manager restarted with the same member id (kill -9, back
// ~3 s later) gets exactly its own partitions back, and the healthy member's
// assignment does not change meanwhile (issue 12). Before static takeover the
// restart either joined as a new member and took partitions from the healthy
// one, or (static) was refused with UNRELEASED_INSTANCE_ID — fatal in
// librdkafka — until the crashed member's 45 s session expired.
// bench/memberRecovery.ts times the same scenario.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConsumerGroup, setGroupConfigs, type GroupView } from '../../kafka/consumerGroupAdmin.ts';
import { GROUP_SESSION } from '../../kafka/groupSession.ts';
import { EVENT_MANAGER_GROUP, EVENT_MANAGER_INPUTS } from '../../streams/event-manager/eventManager.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { eventually, sleep } from '../support/wait.ts';

const s = isolatedSettings('static', 4);
const groupId = `${s.topics.prefix}${EVENT_MANAGER_GROUP}`;
const sinkGroupId = `${s.topics.prefix}notify-sink`;
const members: MemberProcess[] = [];

/** instance id → its assignment, sorted, as one comparable string. */
function assignments(g: GroupView | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of g?.members ?? [])
    out.set(
      m.instanceId ?? m.memberId,
      [...m.assignment]
        .filter(([, ps]) => ps.length > 0)
        .map(([t, ps]) => `${t.slice(s.topics.prefix.length)}[${[...ps].sort((a, b) => a - b).join(',')}]`)
        .sort()
        .join(' '),
    );
  return out;
}

/** Both members hold partitions, the group is settled and all `total` topic-partitions are held. */
async function settled(group = groupId, total = EVENT_MANAGER_INPUTS.length * s.topics.partitions): Promise<Map<string, string>> {
  return eventually(
    `a settled group ${group} of two members holding every partition`,
    async () => {
      const g = await describeConsumerGroup(s.kafka.brokers, group);
      if (!g || g.members.length !== 2 || g.members.some((m) => m.memberEpoch !== g.groupEpoch)) return undefined;
      const held = g.members.reduce((n, m) => n + [...m.assignment.values()].reduce((k, ps) => k + ps.length, 0), 0);
      return held === total && [...assignments(g).values()].every((a) => a.length > 0) ? assignments(g) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

/**
 * The restarted process must take over before the crashed member's session (6 s,
 * kafka/groupSession.ts) expires, or its partitions have moved and it joins as a
 * newcomer. Starting a member process takes seconds on a loaded 2-core machine (it
 * did not make it in CI), so the test widens the window: a 30 s session, heard by the
 * member before it is killed (the broker times a member out from its last heartbeat,
 * by the config in force then). The restarted member sets 6 s again as it starts.
 */
async function widenSession(group: string): Promise<void> {
  await setGroupConfigs(s.kafka.brokers, group, { 'consumer.session.timeout.ms': '30000' });
  await sleep(2 * GROUP_SESSION.heartbeatIntervalMs + 500);
}

const start = (id: string) => startMemberProcess(s, id, ['event-manager', '--member-id', id, '--stats-interval', '60'], /running against/);
const startSink = (id: string) =>
  startMemberProcess(s, id, ['notify-sink', '--member-id', id, '--port', '0', '--stats-interval', '60'], /notify sink on/, {
    PRESENCE_NOTIFY_CONTACT: 'sip:127.0.0.1:5999',
  });

beforeAll(async () => {
  await applyIsolated(s);
});

afterAll(async () => {
  for (const m of members) await m.stop('SIGKILL').catch(() => {});
  await cleanupIsolated(s);
});

describe('static membership keyed by the member id', () => {
  it('gives a member restarted after kill -9 exactly its own partitions, without moving the other member', async () => {
    members.push(await start('em-a'), await start('em-b'));
    const before = await settled();
    const [a, b] = [before.get('em-a')!, before.get('em-b')!];

    await widenSession(groupId);
    members[0]!.signal('SIGKILL');
    await sleep(3_000);
    const restartedAt = Date.now();
    const seenForB = new Set<string>();
    members.push(await start('em-a'));
    const after = await eventually(
      'em-a holding its partitions again',
      async () => {
        const now = assignments(await describeConsumerGroup(s.kafka.brokers, groupId));
        seenForB.add(now.get('em-b') ?? '(gone)');
        return now.get('em-a') === a ? now : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // Its partitions resumed: restored from the changelog (empty here) after the restart.
    await members[2]!.waitFor(/partition \d+: restored/, 15_000, restartedAt);
    expect(after.get('em-a')).toBe(a);
    expect(after.get('em-b')).toBe(b);
    expect([...seenForB]).toEqual([b]);
    expect(members[2]!.lines.some((l) => /releasing the instance from its previous process/.test(l.text))).toBe(true);
  });

  it('hands a cleanly stopped static member’s partitions to the others at once', async () => {
    await members[2]!.stop('SIGTERM');
    const g = await eventually(
      'em-b holding every partition',
      async () => {
        const now = assignments(await describeConsumerGroup(s.kafka.brokers, groupId));
        return now.size === 1 && (now.get('em-b') ?? '').split(' ').every((t) => t.endsWith('[0,1,2,3]')) ? now : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect([...g.keys()]).toEqual(['em-b']);
  });

  it('gives a notify sink restarted after kill -9 exactly its own partitions, without moving the other sink', async () => {
    const [sa, sb] = [await startSink('sink-a'), await startSink('sink-b')];
    members.push(sa, sb);
    const before = await settled(sinkGroupId, 4);
    await widenSession(sinkGroupId);
    sa.signal('SIGKILL');
    await sleep(3_000);
    const seenForB = new Set<string>();
    const restarted = await startSink('sink-a');
    members.push(restarted);
    const after = await eventually(
      // On a timeout, say what the restarted sink did (CI shows no logs otherwise).
      () =>
        `sink-a holding ${before.get('sink-a')} again (exited: ${restarted.exited}; its last lines: ${restarted.lines
          .slice(-8)
          .map((l) => l.text)
          .join(' | ')})`,
      async () => {
        const now = assignments(await describeConsumerGroup(s.kafka.brokers, sinkGroupId));
        seenForB.add(now.get('sink-b') ?? '(gone)');
        return now.get('sink-a') === before.get('sink-a') ? now : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(after.get('sink-b')).toBe(before.get('sink-b'));
    expect([...seenForB]).toEqual([before.get('sink-b')]);
  });
});
