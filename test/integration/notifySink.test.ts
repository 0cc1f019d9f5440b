// The NOTIFY sink on the real broker and registry, with SIPp as the watcher:
// three NotifyRequests of one dialog arrive at SIPp in CSeq order with the
// right Event / Subscription-State / Content-Type and yield three `delivered`
// reports; a watcher that does not exist any more (SIPp answering 481) yields
// `gone`; a NOTIFY to a port nobody listens on ends as `gave-up` (Timer F with
// T1 = 50 ms, two attempts) and lands in dead-letters with its bytes.
import Kafka from 'node-rdkafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveNotify, scenarioXml } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import type { DeadLetter, DeliveryReport, NotifyRequest } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { asError, connectConsumer, consumeBatch, disconnect } from '../../kafka/rdkafkaPromises.ts';
import { withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { freeUdpPort as freeUdpPortOn } from '../support/ports.ts';
import { sleep } from '../support/wait.ts';

const HOST = '127.0.0.1';
const HAVE_SIPP = sippAvailable();
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): the SIPp parts of the notify sink test are skipped');

const s = isolatedSettings('notify-sink', 4);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const topic = (n: 'notify-requests' | 'delivery-reports' | 'dead-letters') => topicName(s.topics.prefix, n);
const run = `${Date.now().toString(36)}${process.pid}`;
const PIDF = (state: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:+351910000042@ims.example.net"><tuple id="t1"><status><basic>${state}</basic></status></tuple></presence>`;

let producer: RecordProducer;
let sink: NotifySink;
/** NotifyRequests written so far (every one must end with its offset committed). */
let written = 0;

const freeUdpPort = () => freeUdpPortOn(HOST);

function notify(over: Partial<NotifyRequest> & Pick<NotifyRequest, 'notifyId' | 'callId' | 'cseq' | 'requestUri'>): NotifyRequest {
  return {
    contactVerified: true,
    presentity: 'msisdn:+351910000042',
    event: 'presence',
    localTag: 'pa-1f2e3d4c',
    remoteTag: 'w-9a8b7c',
    fromUri: 'sip:+351910000042@ims.example.net;user=phone',
    toUri: 'sip:watcher@example.com',
    routeSet: [],
    subscriptionState: 'active',
    expires: 600,
    reason: null,
    version: over.cseq,
    contentType: 'application/pidf+xml',
    body: PIDF('open'),
    causeEventId: null,
    createdAt: Date.now(),
    ...over,
  };
}

/** Reads a topic from the start until `done` holds for what arrived, or fails at the deadline saying what did. */
async function readUntil<T>(name: 'delivery-reports' | 'dead-letters', partitions: number, done: (values: T[]) => boolean, timeoutMs: number): Promise<T[]> {
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': s.kafka.brokers,
      'group.id': `it-reader-${run}-${Math.random()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await connectConsumer(consumer, 10_000);
  consumer.setDefaultConsumeTimeout(200);
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic: topic(name), partition, offset: 0 })));
  const values: T[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      for (const m of await consumeBatch(consumer, 500)) values.push((await serde.decode(name, m.value!)) as T);
      if (done(values)) return values;
      if (Date.now() > deadline)
        throw new Error(`timed out reading ${topic(name)}: ${JSON.stringify(values, (_k, v) => (v?.type === 'Buffer' ? '<bytes>' : v))}`);
    }
  } catch (err) {
    throw asError(err);
  } finally {
    await disconnect(consumer);
  }
}

/** SIPp as the watcher's UAS: receives `count` NOTIFYs of one dialog, checks each one's headers and CSeq, answers `status`. */
function uasScenario(steps: Array<{ cseq: number; state: string }>, status: '200 OK' | '481 Call/Transaction Does Not Exist'): string {
  const vars: string[] = [];
  const body = steps
    .map(({ cseq, state }, i) => {
      vars.push(`ev${i}`, `ss${i}`, `ct${i}`, `cs${i}`);
      const checks = [
        `<ereg regexp="^ *presence *$" search_in="hdr" header="Event:" check_it="true" assign_to="ev${i}"/>`,
        `<ereg regexp="^ *${state.replace(/[.;=]/g, (c) => `\\${c}`)} *$" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="ss${i}"/>`,
        `<ereg regexp="^ *application/pidf\\+xml *$" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct${i}"/>`,
        `<ereg regexp="^ *${cseq} NOTIFY *$" search_in="hdr" header="CSeq:" check_it="true" assign_to="cs${i}"/>`,
      ];
      return receiveNotify(checks, { crlf: true, status });
    })
    .join('\n');
  return scenarioXml('presence watcher UAS', body, vars);
}

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-notify-sink', 15_000);
  await producer.connect();
  sink = await startNotifySink(s, { host: HOST, port: 0, t1Ms: 50, retry: { maxAttempts: 2, backoffBaseMs: 200, backoffMaxMs: 1000 }, drainMs: 1000 });
});

afterAll(async () => {
  await sink?.stop();
  await producer?.close();
  await cleanupIsolated(s);
});

describe('notify sink', () => {
  it.skipIf(!HAVE_SIPP)(
    'delivers the NOTIFYs of one dialog to SIPp in CSeq order, three delivered reports keyed by the presentity',
    async () => {
      const port = await freeUdpPort();
      const steps = [
        { cseq: 1, state: 'active;expires=600' },
        { cseq: 2, state: 'active;expires=590' },
        { cseq: 3, state: 'terminated;reason=timeout' },
      ];
      const sipp = startSipp({ scenario: uasScenario(steps, '200 OK'), args: ['-i', HOST, '-p', String(port), '-t', 'u1', '-m', '1'], deadlineMs: 40_000 });
      try {
        const callId = `dlg-ok-${run}@${HOST}`;
        const requestUri = `sip:watcher@${HOST}:${port}`;
        for (const [i, st] of steps.entries()) {
          const n = notify({
            notifyId: `ok-${run}-${i + 1}`,
            callId,
            cseq: st.cseq,
            requestUri,
            ...(st.cseq === 3
              ? { subscriptionState: 'terminated', expires: null, reason: 'timeout', body: PIDF('closed') }
              : { expires: st.cseq === 1 ? 600 : 590 }),
          });
          written++;
          await producer.send(topic('notify-requests'), n.presentity, serde.encode('notify-requests', n));
        }
        const result = await sipp.done;
        expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
        const reports = await readUntil<DeliveryReport>('delivery-reports', 4, (v) => v.filter((r) => r.callId === callId).length >= 3, 30_000);
        const mine = reports.filter((r) => r.callId === callId);
        expect(mine.map((r) => [r.notifyId, r.outcome, r.statusCode, r.attempts])).toEqual([
          [`ok-${run}-1`, 'delivered', 200, 1],
          [`ok-${run}-2`, 'delivered', 200, 1],
          [`ok-${run}-3`, 'delivered', 200, 1],
        ]);
        expect(mine.every((r) => r.presentity === 'msisdn:+351910000042')).toBe(true);
        expect(sink.stats.commits).toBeGreaterThan(0);
      } finally {
        sipp.kill();
      }
    },
    60_000,
  );

  it.skipIf(!HAVE_SIPP)(
    'a watcher answering 481 is reported gone after one attempt, without a dead letter',
    async () => {
      const port = await freeUdpPort();
      const sipp = startSipp({
        scenario: uasScenario([{ cseq: 5, state: 'active;expires=300' }], '481 Call/Transaction Does Not Exist'),
        args: ['-i', HOST, '-p', String(port), '-t', 'u1', '-m', '1'],
        deadlineMs: 30_000,
      });
      try {
        const callId = `dlg-gone-${run}@${HOST}`;
        const n = notify({ notifyId: `gone-${run}`, callId, cseq: 5, expires: 300, requestUri: `sip:watcher@${HOST}:${port}`, remoteTag: 'w-gone' });
        written++;
        await producer.send(topic('notify-requests'), n.presentity, serde.encode('notify-requests', n));
        const result = await sipp.done;
        expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
        const reports = await readUntil<DeliveryReport>('delivery-reports', 4, (v) => v.some((r) => r.callId === callId), 20_000);
        expect(reports.find((r) => r.callId === callId)).toMatchObject({ notifyId: `gone-${run}`, outcome: 'gone', statusCode: 481, attempts: 1 });
      } finally {
        sipp.kill();
      }
    },
    45_000,
  );

  it('a NOTIFY to a port nobody listens on gives up after the attempts (Timer F) and goes to dead-letters with its bytes', async () => {
    const port = await freeUdpPort(); // bound and closed again: nothing listens there
    const callId = `dlg-dead-${run}@${HOST}`;
    const requestUri = `sip:watcher@${HOST}:${port}`;
    const n = notify({ notifyId: `dead-${run}`, callId, cseq: 9, requestUri, presentity: 'msisdn:+351910000043', remoteTag: 'w-dead' });
    const t0 = Date.now();
    written++;
    await producer.send(topic('notify-requests'), n.presentity, serde.encode('notify-requests', n));
    const reports = await readUntil<DeliveryReport>('delivery-reports', 4, (v) => v.some((r) => r.callId === callId), 40_000);
    expect(reports.find((r) => r.callId === callId)).toMatchObject({
      notifyId: `dead-${run}`,
      presentity: 'msisdn:+351910000043',
      outcome: 'gave-up',
      attempts: 2,
    });
    // Two Timer F periods (64 × 50 ms) and a 200 ms backoff at least.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2 * 3200);
    const dls = await readUntil<DeadLetter>('dead-letters', 3, (v) => v.some((d) => d.context['notifyId'] === `dead-${run}`), 20_000);
    const dl = dls.find((d) => d.context['notifyId'] === `dead-${run}`)!;
    expect(dl).toMatchObject({ component: 'notify-sink', layer: 'sip', reason: 'undeliverable' });
    expect(dl.context).toMatchObject({ callId, cseq: '9', requestUri, outcome: 'gave-up', attempts: '2' });
    expect(dl.origin).toMatch(/notify-requests\[\d\]@\d+$/);
    const raw = Buffer.from(dl.raw).toString();
    expect(raw).toMatch(new RegExp(`^NOTIFY ${requestUri.replace(/[.]/g, '\\.')} SIP/2\\.0\\r\\n`));
    expect(raw).toContain(`Call-ID: ${callId}\r\n`);
    expect(raw).toContain('CSeq: 9 NOTIFY\r\n');
    // The 481 of the previous test is final and not a failure: no dead letter for it.
    expect(dls.some((d) => d.context['notifyId'] === `gone-${run}`)).toBe(false);
  }, 60_000);

  it.skipIf(!HAVE_SIPP)(
    'no head-of-line blocking: a dead watcher does not hold back another dialog of the same presentity (same partition)',
    async () => {
      const deadPort = await freeUdpPort();
      const livePort = await freeUdpPort();
      const sipp = startSipp({
        scenario: uasScenario([{ cseq: 1, state: 'active;expires=600' }], '200 OK'),
        args: ['-i', HOST, '-p', String(livePort), '-t', 'u1', '-m', '1'],
        deadlineMs: 30_000,
      });
      try {
        const presentity = 'msisdn:+351910000044';
        const dead = notify({
          notifyId: `hol-dead-${run}`,
          callId: `dlg-hol-dead-${run}@${HOST}`,
          cseq: 1,
          requestUri: `sip:watcher@${HOST}:${deadPort}`,
          presentity,
          remoteTag: 'w-hd',
        });
        const live = notify({
          notifyId: `hol-live-${run}`,
          callId: `dlg-hol-live-${run}@${HOST}`,
          cseq: 1,
          requestUri: `sip:watcher@${HOST}:${livePort}`,
          presentity,
          remoteTag: 'w-hl',
        });
        // Same key, so same partition, the dead one first.
        written++;
        await producer.send(topic('notify-requests'), presentity, serde.encode('notify-requests', dead));
        written++;
        await producer.send(topic('notify-requests'), presentity, serde.encode('notify-requests', live));
        const reports = await readUntil<DeliveryReport>('delivery-reports', 4, (v) => v.some((r) => r.notifyId === dead.notifyId), 40_000);
        const deadReport = reports.find((r) => r.notifyId === dead.notifyId)!;
        const liveReport = reports.find((r) => r.notifyId === live.notifyId)!;
        expect(liveReport).toMatchObject({ outcome: 'delivered', statusCode: 200 });
        expect(deadReport).toMatchObject({ outcome: 'gave-up', attempts: 2 });
        // The live dialog was answered while the dead one was still in its Timer F / backoff.
        expect(reports.indexOf(liveReport)).toBeLessThan(reports.indexOf(deadReport));
        expect(deadReport.time - liveReport.time).toBeGreaterThan(3000);
        const result = await sipp.done;
        expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
      } finally {
        sipp.kill();
      }
    },
    60_000,
  );

  it('commits every input offset once its report is out', async () => {
    const deadline = Date.now() + 15_000;
    let committed = -1;
    while (Date.now() < deadline) {
      committed = await withAdmin(s.kafka.brokers, async (admin) => {
        const [t] = await admin.fetchOffsets({ groupId: `${s.topics.prefix}notify-sink`, topics: [topic('notify-requests')] });
        return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      });
      if (committed === written) break;
      await sleep(500);
    }
    expect(committed).toBe(written);
    expect(sink.scheduler.pending).toBe(0);
  }, 30_000);
});
