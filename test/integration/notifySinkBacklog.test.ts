// The notify sink's delivery loop against dead watchers, on the real broker and
// registry with real SIP over loopback (issue 11.5, 12.4):
// - a sink starting on a backlog of NOTIFYs for watchers that are gone (a socket
//   that never answers: every transaction waits for Timer F, 32 s) delivers to
//   the live watchers behind them at once;
// - with more unfinished NOTIFYs than it may hold, it pauses its partitions but
//   keeps polling, so it stays in its group past max.poll.interval.ms;
// - with coalescing on, a burst for a slow watcher is reduced to its latest
//   NOTIFY (RFC 6665 rate control), CSeqs only increasing (issue 11.6).
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import type { NotifyRequest } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { eventually, sleep } from '../support/wait.ts';

const s = isolatedSettings('notify-backlog', 4);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
// The back-pressure test counts every send, so it reads topics of its own: a new
// group starts at the earliest offset and would also read the other tests' NOTIFYs.
const sp = isolatedSettings('notify-pressure', 4);
const spSerde = new RecordSerde(sp.registry.url, sp.topics.prefix);
const run = `${Date.now().toString(36)}${process.pid}`;
let producer: RecordProducer;
const deadSocket = createSocket('udp4'); // swallows every NOTIFY: a watcher that is gone
let deadPort = 0;
const cleanup: Array<() => Promise<unknown>> = [];

function notify(tag: string, i: number, requestUri: string, cseq = 1): NotifyRequest {
  const presentity = `msisdn:+35191${String(i).padStart(7, '0')}`;
  return {
    contactVerified: true,
    notifyId: `${tag}-${run}-${i}/w/${cseq}`,
    presentity,
    event: 'presence',
    callId: `${tag}-${run}-${i}`,
    localTag: 'pa',
    remoteTag: 'w',
    cseq,
    requestUri,
    fromUri: `sip:${presentity.slice(7)}@ims.example.net`,
    toUri: 'sip:watcher@example.com',
    routeSet: [],
    subscriptionState: 'active',
    expires: 600,
    reason: null,
    version: cseq,
    contentType: 'application/pidf+xml',
    body: `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:x@y"><tuple id="t"><status><basic>open</basic></status><note>state ${cseq}</note></tuple></presence>`,
    causeEventId: null,
    createdAt: Date.now(),
  };
}

async function produce(records: NotifyRequest[], into = { settings: s, serde }): Promise<void> {
  const topic = topicName(into.settings.topics.prefix, 'notify-requests');
  await Promise.all(records.map((n) => producer.send(topic, n.presentity, into.serde.encode('notify-requests', n))));
}

beforeAll(async () => {
  await Promise.all([applyIsolated(s), applyIsolated(sp)]);
  await Promise.all([serde.loadIds(), spSerde.loadIds()]);
  producer = new RecordProducer(s.kafka.brokers, 'it-notify-backlog', 15_000);
  await producer.connect();
  await new Promise<void>((r) => deadSocket.bind(0, '127.0.0.1', r));
  deadPort = deadSocket.address().port;
});

afterAll(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
  deadSocket.close();
  await producer?.close();
  await cleanupIsolated(s);
  await cleanupIsolated(sp);
});

describe('notify sink delivery loop with dead watchers', () => {
  it('a (re)start on a backlog of NOTIFYs for gone watchers delays no live watcher', async () => {
    const DEAD = 300;
    const LIVE = 20;
    await produce(Array.from({ length: DEAD }, (_, i) => notify('dead', i, `sip:gone@127.0.0.1:${deadPort}`)));
    const watchers = await Promise.all(Array.from({ length: LIVE }, () => StrictWatcher.open()));
    cleanup.push(() => Promise.all(watchers.map((w) => w.close())));
    await produce(watchers.map((w, i) => notify('live', DEAD + i, w.uri)));
    // Timer F is 32 s; 16 transactions at once: before the slow lane, 300 dead NOTIFYs held every slot for ~10 minutes.
    const started = Date.now();
    const sink: NotifySink = await startNotifySink(s, { host: '127.0.0.1', port: 0, t1Ms: 500, maxConcurrent: 16, retry: { maxAttempts: 1 }, drainMs: 500 });
    cleanup.push(() => sink.stop());
    await eventually('every live watcher has its NOTIFY', () => watchers.every((w) => w.received.some((n) => n.status === 200)), {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    const elapsed = Date.now() - started;
    console.log(`live watchers served ${elapsed} ms after the sink started behind ${DEAD} dead NOTIFYs; ${sink.statsLine()}`);
    expect(elapsed).toBeLessThan(15_000);
    expect(sink.semaphore.slow).toBeGreaterThan(0); // the dead ones wait in the slow lane, not in the slots
  }, 60_000);

  it('back-pressure pauses the partitions but keeps polling: the sink stays in its group past max.poll.interval.ms and sends nothing twice', async () => {
    const log: string[] = [];
    const sink: NotifySink = await startNotifySink(sp, {
      host: '127.0.0.1',
      port: 0,
      t1Ms: 200, // Timer F 12.8 s: each round of dead NOTIFYs stalls the sink twice max.poll.interval.ms
      maxPending: 20,
      retry: { maxAttempts: 1 },
      maxPollIntervalMs: 6000,
      groupId: `${sp.topics.prefix}pressure-${run}`,
      drainMs: 500,
      log: (l) => void log.push(l),
    });
    cleanup.push(() => sink.stop());
    await eventually('assigned', () => log.some((l) => l.startsWith('assigned') && !l.includes('(none)')), { timeoutMs: 20_000, intervalMs: 100 });
    const N = 40;
    await produce(
      Array.from({ length: N }, (_, i) => notify('pressure', 1000 + i, `sip:gone@127.0.0.1:${deadPort}`)),
      { settings: sp, serde: spSerde },
    );
    await eventually('paused', () => sink.stats.pauses > 0, { timeoutMs: 10_000, intervalMs: 100 });
    await eventually(
      () => `all ${N} reported (${sink.statsLine()})`,
      () => sink.stats.reports >= N,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await sleep(1000); // a member that had left the group would now be re-assigned and re-send from its last commit
    expect(log.filter((l) => l.startsWith('revoked'))).toEqual([]);
    expect(sink.deliverer.stats.attempts).toBe(N);
  }, 90_000);

  it('coalescing: a burst for one slow watcher skips superseded NOTIFYs, CSeq only increases, and the last NOTIFY carries the final state', async () => {
    const watcher = await StrictWatcher.open();
    cleanup.push(() => watcher.close());
    watcher.cutOff = true; // slow: the first NOTIFY waits while the burst queues up behind it
    const sink: NotifySink = await startNotifySink(s, {
      host: '127.0.0.1',
      port: 0,
      t1Ms: 100,
      coalesce: true,
      retry: { maxAttempts: 3, backoffBaseMs: 100 },
      groupId: `${s.topics.prefix}coalesce-${run}`,
      drainMs: 500,
    });
    cleanup.push(() => sink.stop());
    const N = 30;
    await produce(Array.from({ length: N }, (_, k) => notify('burst', 5000, watcher.uri, k + 1)));
    await eventually('the burst is queued', () => sink.stats.consumed >= N, { timeoutMs: 20_000 });
    watcher.cutOff = false;
    await eventually('the final NOTIFY arrives', () => watcher.received.some((n) => n.cseq === N && n.status === 200), { timeoutMs: 20_000 });
    await eventually('every record reported', () => sink.stats.reports >= N, { timeoutMs: 10_000 });
    const accepted = watcher.received.filter((n) => n.status === 200);
    expect(accepted.at(-1)!.body).toContain(`state ${N}`);
    expect(accepted.map((n) => n.cseq)).toEqual([...accepted.map((n) => n.cseq)].sort((a, b) => a - b));
    expect(watcher.backwards).toEqual([]);
    expect(sink.scheduler.superseded).toBeGreaterThanOrEqual(N - 3); // the running one, at most one more, and the last were sent
    console.log(`coalescing: ${N} NOTIFYs → ${accepted.length} sent, ${sink.scheduler.superseded} superseded`);
  }, 60_000);
});
