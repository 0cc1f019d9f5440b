// Watchers' dialogs when their presentity's partition moves to another event
// manager (streams/event-manager/handoff/), on the real broker:
// - resubscribe mode: the old owner's last transaction ends each moved dialog
//   with NOTIFY terminated;reason=deactivated at the dialog's next CSeq and
//   version, the re-SUBSCRIBE is served by the new owner (with the presence
//   that moved), a clean stop hands over the same way, and after a SIGKILL the
//   new owner ends the dialogs it inherited;
// - transparent mode: nothing is terminated and the new owner's next NOTIFY
//   continues the dialog's CSeq and version.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../config/settings.ts';
import type { NotifyRequest, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import type { HandoffMode } from '../../streams/event-manager/handoff/handoffMode.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { partitionOf } from '../../kafka/partitioner.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const PARTITIONS = 4;
const T = Date.UTC(2026, 0, 1, 8);
const rulesSchema = `it_handoff_rules_${process.pid}`;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await dropSchema(rulesSchema);
});

/** One subscriber key per partition, so whichever partitions move, some dialog moves with them. */
const keysByPartition: string[] = (() => {
  const keys: string[] = [];
  for (let n = 0; keys.filter(Boolean).length < PARTITIONS; n++) {
    const key = `msisdn:+3519100${String(n).padStart(5, '0')}`;
    const p = partitionOf(key, PARTITIONS);
    if (!keys[p]) keys[p] = key;
  }
  return keys;
})();

interface Stack {
  s: Settings;
  serde: RecordSerde;
  producer: RecordProducer;
  topic: (n: string) => string;
}

async function stack(name: string): Promise<Stack> {
  const base = isolatedSettings(name, PARTITIONS);
  const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
  await applyIsolated(s);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const producer = new RecordProducer(s.kafka.brokers, `it-handoff-${name}`, 15_000);
  await producer.connect();
  cleanups.push(async () => {
    await producer.close();
    await cleanupIsolated(s);
  });
  return { s, serde, producer, topic: (n) => topicName(s.topics.prefix, n as never) };
}

function subscription(key: string, callId: string, cseq: number, expires = 3600): Subscription {
  const user = key.slice('msisdn:'.length);
  return {
    contactVerified: true,
    dialogFilter: null,
    requestId: `${callId}-sub-${cseq}`,
    receivedAt: T + cseq,
    presentity: key,
    presentityUri: `sip:${user}@ims.example.net`,
    watcherUri: 'sip:watcher@example.com',
    event: 'presence',
    expires,
    callId,
    watcherTag: `wt-${callId}`,
    cseq,
    contact: 'sip:watcher@127.0.0.1:5070',
    routeSet: [],
    accept: ['application/pidf+xml'],
    supported: [],
    body: null,
    frontEnd: 'fe-test',
    localTag: `fe-${callId}`,
  };
}

async function send(st: Stack, topic: 'subscriptions' | 'signaling-events', key: string, value: Buffer): Promise<void> {
  await st.producer.send(st.topic(topic), key, value);
}

/** SUBSCRIBEs, then (once the dialogs exist: topics are not ordered among each other) an attach per key. */
async function subscribeAndAttach(st: Stack, keys: string[]): Promise<void> {
  for (const key of keys) await send(st, 'subscriptions', key, st.serde.encode('subscriptions', subscription(key, `d-${key}`, 1)));
  await notifies(st, keys.length, 500);
  for (const key of keys) {
    await send(
      st,
      'signaling-events',
      key,
      st.serde.encode(
        'signaling-events',
        mapEvent(
          key,
          'updateLocation',
          'invoke',
          T + 1000,
          { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 },
          { eventId: `ul-${key}` },
        ),
      ),
    );
    await send(
      st,
      'signaling-events',
      key,
      st.serde.encode('signaling-events', mapEvent(key, 'updateLocation', 'result', T + 1100, { opc: 200, dpc: 100 }, { eventId: `ulr-${key}` })),
    );
  }
}

async function notifies(st: Stack, count: number, settleMs = 3000): Promise<NotifyRequest[]> {
  const got = await readTopic({ brokers: st.s.kafka.brokers, topic: st.topic('notify-requests'), partitions: PARTITIONS, count, timeoutMs: 90_000, settleMs });
  return Promise.all(got.map((m) => st.serde.decode('notify-requests', m.value!)));
}

const byDialog = (ns: NotifyRequest[], callId: string) => ns.filter((n) => n.callId === callId);
const owned = (em: EventManager) => em.processor.ctx.partitions();

/** Until both members hold restored partitions that together are all of them. */
async function settled(a: EventManager, b: EventManager, timeoutMs = 60_000): Promise<void> {
  await eventually(
    () => `the group to settle (a holds ${owned(a)}, b ${owned(b)})`,
    () => {
      const [pa, pb] = [owned(a), owned(b)];
      return pa.length > 0 && pb.length > 0 && pa.length + pb.length === PARTITIONS && !pa.some((p) => pb.includes(p));
    },
    { timeoutMs, intervalMs: 250 },
  );
}

async function holdsAll(em: EventManager, timeoutMs = 60_000): Promise<void> {
  await eventually(
    () => `the member to hold every partition (holds ${owned(em)} only)`,
    () => owned(em).length >= PARTITIONS,
    { timeoutMs, intervalMs: 250 },
  );
}

/** A fresh stack and member A alone in `handoff` mode, holding every partition, with one dialog per partition subscribed and attached (3 NOTIFYs each). */
async function firstMemberWithDialogs(name: string, handoff: HandoffMode): Promise<{ st: Stack; a: EventManager }> {
  const st = await stack(name);
  const a = await startEventManager(st.s, { memberId: 'em-a', rulesSchema, handoff });
  try {
    await holdsAll(a);
    await subscribeAndAttach(st, keysByPartition);
  } catch (err) {
    await a.stop();
    throw err;
  }
  return { st, a };
}

/** Member B joins in the same mode; resolves once the two hold all partitions between them. */
async function secondMember(st: Stack, a: EventManager, handoff: HandoffMode): Promise<EventManager> {
  const b = await startEventManager(st.s, { memberId: 'em-b', rulesSchema, handoff });
  await settled(a, b);
  return b;
}

describe('handoff of watcher dialogs', () => {
  it('resubscribe: moved dialogs end with terminated;reason=deactivated at CSeq+1, the re-SUBSCRIBE reaches the new owner, a clean stop hands over too', async () => {
    const { st, a } = await firstMemberWithDialogs('handoff-resub', 'resubscribe');
    let b: EventManager | undefined;
    try {
      // Per dialog: active (SUBSCRIBE), attaching, attached.
      let n = await notifies(st, 3 * PARTITIONS);
      for (const key of keysByPartition) expect(byDialog(n, `d-${key}`).map((x) => x.cseq)).toEqual([1, 2, 3]);

      b = await secondMember(st, a, 'resubscribe');
      const moved = owned(b);
      const movedKeys = moved.map((p) => keysByPartition[p]!);
      const keptKeys = owned(a).map((p) => keysByPartition[p]!);
      n = await notifies(st, 3 * PARTITIONS + moved.length);
      for (const key of movedKeys) {
        const d = byDialog(n, `d-${key}`);
        expect(d.map((x) => x.cseq)).toEqual([1, 2, 3, 4]);
        expect(d.at(-1)).toMatchObject({
          subscriptionState: 'terminated',
          reason: 'deactivated',
          version: 4,
          body: null,
          localTag: `fe-d-${key}`,
          remoteTag: `wt-d-${key}`,
          presentity: key,
        });
      }
      for (const key of keptKeys) expect(byDialog(n, `d-${key}`).map((x) => x.subscriptionState)).toEqual(['active', 'active', 'active']);
      expect(b.stats.notifies).toBe(0); // B inherited no dialogs: A ended them before letting go

      // The watcher re-subscribes (new dialog): the new owner answers, with the presence that moved (attached: open).
      const key = movedKeys[0]!;
      await send(st, 'subscriptions', key, st.serde.encode('subscriptions', subscription(key, `re-${key}`, 1)));
      n = await notifies(st, 3 * PARTITIONS + moved.length + 1);
      const re = byDialog(n, `re-${key}`);
      expect(re).toHaveLength(1);
      expect(re[0]).toMatchObject({ subscriptionState: 'active', cseq: 1, version: 1 });
      expect(re[0]!.body).toContain('<basic>open</basic>');
      expect(b.stats.subscribes).toBe(1);
      expect(a.stats.subscribes).toBe(PARTITIONS);

      // A clean stop of B hands its partitions back to A the same way.
      await b.stop();
      b = undefined;
      await holdsAll(a);
      n = await notifies(st, 3 * PARTITIONS + moved.length + 2);
      expect(byDialog(n, `re-${key}`).at(-1)).toMatchObject({ subscriptionState: 'terminated', reason: 'deactivated', cseq: 2, version: 2 });
      // Nothing else: no dialog ended twice.
      expect(n.filter((x) => x.subscriptionState === 'terminated')).toHaveLength(moved.length + 1);
    } finally {
      await b?.stop();
      await a.stop();
    }
  });

  it("transparent: nothing is terminated and the new owner continues the dialog's CSeq and version", async () => {
    const { st, a } = await firstMemberWithDialogs('handoff-transparent', 'transparent');
    let b: EventManager | undefined;
    try {
      await notifies(st, 3 * PARTITIONS);
      b = await secondMember(st, a, 'transparent');
      const key = keysByPartition[owned(b)[0]!]!;
      await send(
        st,
        'signaling-events',
        key,
        st.serde.encode(
          'signaling-events',
          mapEvent(key, 'purgeMS', 'invoke', T + 60_000, { vlrNumber: '351910999001', opc: 100, dpc: 200 }, { eventId: `purge-${key}` }),
        ),
      );
      const n = await notifies(st, 3 * PARTITIONS + 1);
      const d = byDialog(n, `d-${key}`);
      expect(d.map((x) => [x.cseq, x.version, x.subscriptionState])).toEqual([
        [1, 1, 'active'],
        [2, 2, 'active'],
        [3, 3, 'active'],
        [4, 4, 'active'],
      ]);
      expect(d[3]!.causeEventId).toBe(`purge-${key}`);
      expect(d[3]!.body).toContain('<basic>closed</basic>');
      expect(b.stats.notifies).toBe(1);
      expect(n.some((x) => x.subscriptionState === 'terminated')).toBe(false);
    } finally {
      await b?.stop();
      await a.stop();
    }
  });

  it('resubscribe after a SIGKILL: the new owner ends the dialogs it inherited, once', async () => {
    const st = await stack('handoff-crash');
    // The classic protocol's 10 s session timeout gives the dead member's partitions away sooner than KIP-848's 45 s.
    const lines: string[] = [];
    const child: ChildProcess = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'bin/presence.mjs'),
        'run',
        'event-manager',
        '--member-id',
        'em-doomed',
        '--protocol',
        'classic',
        '--handoff',
        'resubscribe',
        '--stats-interval',
        '5',
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, PRESENCE_TOPIC_PREFIX: st.s.topics.prefix, PRESENCE_PARTITIONS: String(PARTITIONS), PRESENCE_DATABASE_URL: testDatabaseUrl },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise((r) => child.once('exit', r));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (b: Buffer) => lines.push(...b.toString('utf8').split('\n').filter(Boolean)));
    const deadline = Date.now() + 60_000;
    while (!lines.some((l) => /restored \d+ subscribers/.test(l))) {
      if (child.exitCode !== null) throw new Error(`event manager exited: ${lines.slice(-5).join(' | ')}`);
      if (Date.now() > deadline) throw new Error(`event manager did not take its partitions: ${lines.slice(-5).join(' | ')}`);
      await sleep(200);
    }
    const keys = keysByPartition.slice(0, 2);
    await subscribeAndAttach(st, keys);
    await notifies(st, 3 * keys.length).catch((e) => {
      throw new Error(`${(e as Error).message}; member said: ${lines.slice(-15).join(' | ')}`);
    });
    child.kill('SIGKILL');
    await exited;

    const b = await startEventManager(st.s, { memberId: 'em-heir', rulesSchema, handoff: 'resubscribe', protocol: 'classic' });
    try {
      const n = await notifies(st, 4 * keys.length);
      for (const key of keys) {
        const d = byDialog(n, `d-${key}`);
        expect(d.map((x) => x.cseq)).toEqual([1, 2, 3, 4]);
        expect(d[3]).toMatchObject({ subscriptionState: 'terminated', reason: 'deactivated', version: 4 });
      }
      expect(b.stats.notifies).toBe(keys.length);
      // The store no longer holds them (the changelog has the writes): a presence change notifies nobody.
      await send(
        st,
        'signaling-events',
        keys[0]!,
        st.serde.encode('signaling-events', mapEvent(keys[0]!, 'purgeMS', 'invoke', T + 60_000, { vlrNumber: '351910999001', opc: 100, dpc: 200 })),
      );
      const deadline2 = Date.now() + 30_000;
      while (b.stats.presenceChanges < 1 && Date.now() < deadline2) await sleep(200);
      expect(b.stats.presenceChanges).toBe(1);
      expect(b.stats.notifies).toBe(keys.length);
    } finally {
      await b.stop();
    }
  });
});
