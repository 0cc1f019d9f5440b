// The service-event deriver's admin port, started as an operator does
// (`presence run event-deriver --admin-port 0`): /readyz says why it is not
// ready, then 200 once it owns its partitions with the open calls restored;
// /livez 200; /metrics has its series, and they move when a missed call
// (ISUP IAM, then REL without an answer) goes through it: the open call held,
// then the call.missed written and the call let go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { adminUrlIn, scrape, seriesValue } from '../support/adminScrape.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { isupEvent } from '../support/signalingEvents.ts';
import { eventually } from '../support/wait.ts';

const s = isolatedSettings('evderiver-admin', 2);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const run = `${Date.now().toString(36)}${process.pid}`;
const A = 'msisdn:+9997000000181';
let proc: MemberProcess | undefined;
let producer: RecordProducer;

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-evderiver-admin', 15_000);
  await producer.connect();
}, 90_000);

afterAll(async () => {
  await proc?.stop('SIGTERM').catch(() => proc?.stop('SIGKILL'));
  await producer?.close();
  await cleanupIsolated(s);
}, 90_000);

describe('presence run event-deriver --admin-port', () => {
  it('starting, then ready; a missed call moves its series (open calls up then down, call.missed written, transactions committed)', async () => {
    proc = await startMemberProcess(
      s,
      'evderiver-admin',
      ['event-deriver', '--member-id', `eda-${run}`, '--admin-port', '0', '--stats-interval', '60'],
      /admin on http/,
    );
    const admin = adminUrlIn(proc.lines.map((l) => l.text).join('\n'))!;
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const early = await fetch(`${admin}/readyz`);
    // It joins and restores first: never ready at once.
    expect(early.status).toBe(503);
    expect(((await early.json()) as { reason: string }).reason).toMatch(/starting|restoring|not running/);
    await eventually('GET /readyz 200', async () => (await fetch(`${admin}/readyz`)).status === 200 || undefined, { timeoutMs: 90_000, intervalMs: 300 });
    expect((await fetch(`${admin}/livez`)).status).toBe(200);
    const before = await scrape(admin);
    expect(seriesValue(before, 'presence_event_deriver_open_calls')).toBe(0);
    expect(seriesValue(before, 'presence_event_deriver_partitions{state="live"}')).toBe(2);

    const t0 = Date.now();
    const party = { role: 'called' as const, calling: '+9997000000182', called: '+9997000000181', cic: 51 };
    const send = (e: ReturnType<typeof isupEvent>) =>
      producer.send(topicName(s.topics.prefix, 'signaling-events'), A, serde.encode('signaling-events', e), e.time);
    await send(isupEvent(A, 'IAM', t0, party));
    await eventually('the call held open', async () => seriesValue(await scrape(admin), 'presence_event_deriver_open_calls') === 1 || undefined, {
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    await send(isupEvent(A, 'REL', t0 + 5000, { ...party, cause: 19 }));
    const after = await eventually(
      'the missed call written and the call let go',
      async () => {
        const text = await scrape(admin);
        return seriesValue(text, 'presence_event_deriver_events_total{type="call.missed"}') === 1 &&
          seriesValue(text, 'presence_event_deriver_open_calls') === 0
          ? text
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    expect(seriesValue(after, 'presence_event_deriver_events_total{type="call.offered"}')).toBe(1);
    expect(seriesValue(after, 'presence_event_deriver_inputs_total{topic="signaling"}')).toBe(2);
    expect(seriesValue(after, 'presence_event_deriver_records_total')).toBeGreaterThanOrEqual(2);
    expect(seriesValue(after, 'presence_event_deriver_transactions_total')).toBeGreaterThanOrEqual(2);
    expect(seriesValue(after, 'presence_event_deriver_dead_letters_total')).toBe(0);
    expect(seriesValue(after, 'presence_event_deriver_transaction_commit_seconds_count')).toBeGreaterThanOrEqual(2);
  }, 180_000);
});
