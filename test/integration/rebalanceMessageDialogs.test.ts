// Message dialogs (RFC 3842 message-summary, seed 003 message) under
// rebalancing, on the real broker: each subscriber has a message-summary
// watcher and a message watcher; a voicemail platform's summaries and new
// messages flow (the records its HTTP or SIP publish writes) while a second
// event manager joins the group and then the first leaves. For every dialog
// the NOTIFYs read back read_committed must be what one uninterrupted owner
// would have sent: the first NOTIFY, then one per new summary or message,
// none lost, none twice, CSeq 1..n without a step back, each caused by the
// record it answers, the last summary the last one published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagingEvent, noticeFacts, summaryFacts } from '../../kafka/messagingRecord.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { parseMessageSummary } from '../../presence-document/messageSummary.ts';
import type { NotifyRequest, SignalingEvent, Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually, sleep } from '../support/wait.ts';

const PARTITIONS = 4;
const SUBSCRIBERS = 12;
const base = isolatedSettings('rb-msg', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const schema = `it_rb_msg_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: Parameters<typeof topicName>[1]) => topicName(s.topics.prefix, n as never);
const run = `${Date.now().toString(36)}${process.pid}`;
const say = (line: string) => process.stderr.write(`[rb-msg ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

const msisdn = (i: number) => `+9997300${String(i).padStart(5, '0')}`;
const key = (i: number) => `msisdn:${msisdn(i)}`;
const uri = (i: number) => `sip:${msisdn(i)}@ims.example.net;user=phone`;
type Pkg = 'message-summary' | 'message';
const callIdOf = (i: number, pkg: Pkg) => `rbm-${run}-${pkg}-${i}`;

function subscription(i: number, pkg: Pkg): Subscription {
  return {
    contactVerified: true,
    dialogFilter: null,
    requestId: `sub-${run}-${pkg}-${i}`,
    receivedAt: Date.now(),
    presentity: key(i),
    presentityUri: uri(i),
    // Its own mailbox: the front end lets only the subscriber itself subscribe.
    watcherUri: uri(i),
    event: pkg,
    expires: 3600,
    callId: callIdOf(i, pkg),
    watcherTag: `w-${pkg}-${i}`,
    cseq: 1,
    contact: `sip:${msisdn(i)}@127.0.0.1:5070`,
    routeSet: [],
    accept: pkg === 'message-summary' ? ['application/simple-message-summary'] : ['text/plain', 'audio/*'],
    supported: [],
    body: null,
    frontEnd: 'fe-test',
    localTag: `fe-${pkg}-${i}`,
  };
}

const members: EventManager[] = [];
let producer: RecordProducer;

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-rb-msg', 15_000);
  await producer.connect();
}, 90_000);

afterAll(async () => {
  for (const m of members) await m.stop().catch(() => {});
  await producer?.close();
  await cleanupIsolated(s);
  await dropSchema(schema);
}, 120_000);

describe('message-summary and message dialogs under rebalancing', () => {
  it('an event manager joins, then the first leaves, while summaries and messages flow: every dialog gets each NOTIFY once, in CSeq order', async () => {
    const t0 = Date.now();
    const at = (label: string) => say(`${label} at +${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const start = async (n: number) => {
      const em = await startEventManager(s, { memberId: `rbm-${run}-${n}`, rulesSchema: schema });
      members.push(em);
      return em;
    };
    const em1 = await start(1);
    await eventually('em-1 owns every partition', () => em1.processor.ctx.partitions().length === PARTITIONS || undefined, { timeoutMs: 60_000 });
    // The expected causes per dialog: the SUBSCRIBE, then each record that changes what it shows.
    const expected = new Map<string, string[]>();
    const lastSummary = new Map<number, number>();
    for (let i = 0; i < SUBSCRIBERS; i++)
      for (const pkg of ['message-summary', 'message'] as const) {
        const sub = subscription(i, pkg);
        expected.set(sub.callId, [sub.requestId]);
        await producer.send(topic('subscriptions'), key(i), serde.encode('subscriptions', sub));
      }
    const firsts = await readTopic({
      brokers: s.kafka.brokers,
      topic: topic('notify-requests'),
      partitions: PARTITIONS,
      count: 2 * SUBSCRIBERS,
      timeoutMs: 60_000,
    });
    at(`${firsts.length} first NOTIFYs`);

    // Traffic: rounds over the subscribers, a new summary (one more voice mail) then a new text message each.
    let round = 0;
    let on = true;
    let failure: unknown;
    const traffic = (async () => {
      while (on) {
        round++;
        for (let i = 0; i < SUBSCRIBERS; i++) {
          const now = Date.now();
          const summary = messagingEvent(
            key(i),
            summaryFacts({
              waiting: true,
              account: 'sip:vm@vm.example.net',
              classes: [{ context: 'voice-message', newCount: round, oldCount: 0, urgentNew: 0, urgentOld: 0 }],
            }),
            now,
          );
          const notice = messagingEvent(
            key(i),
            noticeFacts({
              messageId: `m-${run}-${i}-${round}`,
              contentType: 'text/plain',
              origin: 'tel:+441632960001',
              contact: null,
              context: 'text-message',
              receivedAt: now,
              subject: null,
            }),
            now,
          );
          for (const e of [summary, notice] as SignalingEvent[])
            await producer.send(topic('signaling-events'), key(i), serde.encode('signaling-events', e), now);
          expected.get(callIdOf(i, 'message-summary'))!.push(summary.eventId);
          expected.get(callIdOf(i, 'message'))!.push(notice.eventId);
          lastSummary.set(i, round);
        }
        // Rounds, then a pause (a steady trickle would hold each consume until a full batch).
        await sleep(1000);
      }
    })().catch((err) => (failure = err));

    await sleep(5000);
    const em2 = await start(2);
    at(`em-2 started (round ${round})`);
    await eventually(
      'both members own partitions',
      () => (em1.processor.ctx.partitions().length > 0 && em2.processor.ctx.partitions().length > 0) || undefined,
      {
        timeoutMs: 60_000,
      },
    );
    at(`em-1 owns ${em1.processor.ctx.partitions().join(',')}, em-2 ${em2.processor.ctx.partitions().join(',')} (round ${round})`);
    await sleep(5000);
    await em1.stop();
    members.splice(members.indexOf(em1), 1);
    at(`em-1 stopped (round ${round})`);
    await eventually('em-2 owns every partition', () => em2.processor.ctx.partitions().length === PARTITIONS || undefined, { timeoutMs: 60_000 });
    await sleep(4000);
    on = false;
    await traffic;
    expect(failure).toBeUndefined();
    at(`traffic stopped after ${round} rounds`);

    const total = [...expected.values()].reduce((n, c) => n + c.length, 0);
    const records = await readTopic({
      brokers: s.kafka.brokers,
      topic: topic('notify-requests'),
      partitions: PARTITIONS,
      count: total,
      timeoutMs: 60_000,
      settleMs: 3000,
    });
    const notifies: NotifyRequest[] = await Promise.all(records.map((r) => serde.decode('notify-requests', r.value!)));
    at(`read ${notifies.length} NOTIFYs (expected ${total})`);
    const problems: string[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++)
      for (const pkg of ['message-summary', 'message'] as const) {
        const callId = callIdOf(i, pkg);
        const got = notifies.filter((n) => n.callId === callId);
        const causes = got.map((n) => n.causeEventId);
        const cseqs = got.map((n) => n.cseq);
        const want = expected.get(callId)!;
        if (JSON.stringify(causes) !== JSON.stringify(want) || cseqs.some((c, k) => c !== k + 1))
          problems.push(
            `${callId}: ${got.length} NOTIFYs, expected ${want.length}; cseqs ${cseqs.join(',')}; lost ${want.filter((c) => !causes.includes(c)).length}; twice ${causes.filter((c, k) => causes.indexOf(c) !== k).length}`,
          );
        expect.soft(causes, `${callId} causes`).toEqual(want);
        expect.soft(cseqs, `${callId} CSeqs`).toEqual(want.map((_, k) => k + 1));
        expect.soft(new Set(got.map((n) => n.event)), `${callId} package`).toEqual(new Set([pkg]));
        if (pkg === 'message-summary')
          expect.soft(parseMessageSummary(got.at(-1)!.body!).classes[0]?.newCount, `${callId} last summary`).toBe(lastSummary.get(i));
        else expect.soft(got.slice(1).every((n) => n.contentType === 'text/plain')).toBe(true);
      }
    for (const p of problems) say(`PROBLEM ${p}`);
    expect(problems).toEqual([]);
    at(`done: ${round} rounds, ${notifies.length} NOTIFYs over ${2 * SUBSCRIBERS} dialogs`);
  }, 240_000);
});
