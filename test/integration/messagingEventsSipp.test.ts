// Issue 17's messaging test on the real stack with real SIP peers: two SIPp
// watchers SUBSCRIBE through the SIP front end to their own
// `Event: message-summary` and `Event: message`; a capture with missed calls
// (ISUP mobile-terminated calls released before an answer — the IAM addressed
// to the roaming number the HLR's sendRoutingInfo answer gave — and SIP
// INVITEs to the subscriber ending 480), SMS (MAP
// mt-ForwardSM) and the voicemail server's message-summary NOTIFYs is
// replayed through the taps. The watchers (SIPp UASs at the SUBSCRIBEs'
// Contacts, their message traces kept) get the first NOTIFYs, then one per SMS
// and one per new summary, in CSeq order; and the same capture's missed calls
// and SMS reach a service registered (for that subscriber) with the event
// service, by webhook, signed, once each.
//
// The capture is the repo's generator (tools/generator): no capture in
// ../shared/captures has a missed call and an SMS to one subscriber (the ISUP
// capture's call is answered; the MAP SMS capture is MAP v2 forwardSM between
// other networks' nodes).
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { parseMessageNotice } from '../../presence-document/messageNotice.ts';
import { parseMessageSummary } from '../../presence-document/messageSummary.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { startEventService, type EventService } from '../../services/event-service/eventService.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { startEventDeriver, type EventDeriver } from '../../streams/service-events/serviceEventDeriver.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';
import { generatePackets, subscriberIdentity, type GenerateOptions } from '../../tools/generator/generate.ts';
import { generatorSource } from '../../tools/generator/generatorSource.ts';
import { notifyReceiverUntilQuietUas, subscribeToPresentityUac } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { headerOf, parseSippMessageTrace, receivedRequests } from '../../tools/sipp/sippTrace.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { sippToTag } from '../support/sippToTag.ts';
import { eventually, sleep } from '../support/wait.ts';

const HOST = '127.0.0.1';
const HAVE_SIPP = sippAvailable();
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): the messaging events SIPp test is skipped');
/** Fixed loopback ports (SIPp cannot report an ephemeral one back). */
const PORTS = { summaryUas: 27101, messageUas: 27102, summaryUac: 27103, messageUac: 27104 };
/** A watcher UAS ends after this long without a NOTIFY: longer than the replay and the pipeline's hops take. */
const QUIET_MS = 20_000;
const SECRET = 'vm-platform-webhook-secret';

const base = isolatedSettings('msgsipp', 2);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const schema = `it_msgsipp_${process.pid}`;
const run = `${Date.now().toString(36)}${process.pid}`;
const DURATION = 1800;
/** Missed calls (every MT call unanswered), SMS and voice mails (and the periodic registrations every run has) in the last half hour. */
const gen: GenerateOptions = {
  subscribers: 4,
  durationSeconds: DURATION,
  seed: 1703,
  startTime: Math.floor(Date.now() / 1000) - DURATION - 60,
  mix: {
    mtCallsPerHour: 4,
    moCallsPerHour: 0,
    busyShare: 0,
    noAnswerShare: 1,
    mtSmsPerHour: 4,
    moSmsPerHour: 0,
    atiPerHour: 0,
    sipCallsPerHour: 4,
    publishPerHour: 0,
    subscribePerHour: 0,
    messagePerHour: 0,
    voicemailPerHour: 4,
    unknownShare: 0,
    imsShare: 1,
    powerCycleSeconds: 100 * 3600,
  },
};

/**
 * A notifyReceiverUntilQuietUas run that went as planned: SIPp counts the quiet
 * end (its recv timeout, jumping to the end) as a failed call, so exit 1 with
 * that one line in its error log and nothing else; anything else failed.
 */
function endedQuietly(r: { code: number | null; errors: string }): boolean {
  if (r.code === 0) return true;
  const lines = r.errors.split('\n').filter((l) => l.trim() !== '' && l !== 'The following events occurred:');
  return r.code === 1 && lines.length > 0 && lines.every((l) => /receive timeout on .*NOTIFYs until \d+ ms of quiet:\d+, jumping to label/.test(l));
}

const admin = newToken('provisioning', ['events:register', 'events:read']);
const tokens = BearerTokens.parse(admin.line);

interface Hook {
  id: string;
  type: string;
  signatureOk: boolean;
  body: { eventId: string; subject: string; payload: Record<string, unknown> };
}
const hooks: Hook[] = [];
let receiver: http.Server | undefined;
let em: EventManager | undefined;
let fe: SipFrontEnd | undefined;
let sink: NotifySink | undefined;
let deriver: EventDeriver | undefined;
let events: EventService | undefined;
const directory = new SubscriberDirectory(testDatabaseUrl, schema);
const dirs: string[] = [];

beforeAll(async () => {
  if (!HAVE_SIPP) return;
  await applyIsolated(s);
  await directory.migrate();
  await directory.provision(
    Array.from({ length: gen.subscribers }, (_, i) => {
      const id = subscriberIdentity(i, {});
      return { imsi: id.imsi, msisdn: `+${id.msisdn}`, aor: id.aor };
    }),
  );
  em = await startEventManager(s, { memberId: `em-msgsipp-${run}`, rulesSchema: schema });
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: `fe-msgsipp-${run}`, groups: false });
  sink = await startNotifySink(s, { host: HOST, port: 0, drainMs: 1000 });
  deriver = await startEventDeriver(s, { memberId: `msgsipp-${run}`, fetchWaitMs: 50 });
  events = await startEventService(s, {
    port: 0,
    host: HOST,
    schema,
    tokens,
    groupId: `${s.topics.prefix}event-service`,
    webhooks: { baseBackoffMs: 100, maxBackoffMs: 800, pollMs: 100, timeoutMs: 2000 },
    heartbeatMs: 1000,
  });
  // The service's webhook receiver (a voicemail platform wanting missed calls and SMS).
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      hooks.push({
        id: String(req.headers['x-event-id']),
        type: String(req.headers['x-event-type']),
        signatureOk: req.headers['x-event-signature'] === `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`,
        body: JSON.parse(raw) as Hook['body'],
      });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver!.listen(0, HOST, () => r()));
  await eventually('both partitions restored', () => em!.processor.ctx.partitions().length === 2, { timeoutMs: 60_000 });
}, 180_000);

afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  await events?.stop();
  await deriver?.stop();
  await fe?.stop();
  await em?.stop();
  await sink?.stop();
  await directory.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (HAVE_SIPP) await cleanupIsolated(s);
  await dropSchema(schema);
}, 120_000);

describe.skipIf(!HAVE_SIPP)('SIPp Event: message-summary / message watchers and a webhook service ← replayed missed call, SMS and voice mail', () => {
  it('the watchers get the first NOTIFYs, one per SMS and one per new summary, in CSeq order; the service gets each missed call and SMS once', async () => {
    const packets = [...generatePackets(gen)].map((p) => ({ meta: p.meta, text: p.frame.toString('latin1') }));
    const metas = packets.map((p) => p.meta);
    const count = (i: number, protocol: string, message: string) =>
      metas.filter((m) => m.subscriber === i && m.protocol === protocol && m.message === message).length;
    const sms = (i: number) => count(i, 'map', 'mt-ForwardSM.invoke');
    // ISUP calls to i (all mobile-terminated, none answered): their REL.
    const isupMissed = (i: number) => count(i, 'isup', 'REL');
    // SIP calls to i that failed (4xx-6xx final answer, never answered): the meta names the caller, the To header the callee.
    const sipMissed = (i: number) =>
      packets.filter(
        (p) => /^[456]\d\d INVITE$/.test(p.meta.message) && new RegExp(`\r\n(?:To|t): [^\r\n]*\\+${subscriberIdentity(i, {}).msisdn}@`).test(p.text),
      ).length;
    const missed = (i: number) => isupMissed(i) + sipMissed(i);
    const vm = (i: number) => count(i, 'sip', 'NOTIFY');
    const who = Array.from({ length: gen.subscribers }, (_, i) => i).find((i) => sms(i) > 0 && vm(i) > 0 && isupMissed(i) > 0 && sipMissed(i) > 0);
    expect(who, 'a subscriber with ISUP and SIP missed calls, an SMS and a voice mail in the capture').toBeDefined();
    // Every call of the capture is unanswered.
    expect(metas.filter((m) => m.message === '200 INVITE' || m.message === 'ANM')).toEqual([]);
    const id = subscriberIdentity(who!, {});
    const msisdn = `+${id.msisdn}`;
    const own = `sip:${msisdn}@ims.example.net;user=phone`;
    const subject = `msisdn:${msisdn}`;

    // The service: missed calls, SMS, new messages and message waiting by webhook.
    const registered = await fetch(`http://${HOST}:${events!.port}/services/vm-platform`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        subscriptions: [{ types: ['call.missed', 'sms.received', 'message.received', 'message.waiting'], subscribers: [subject] }],
        delivery: { mode: 'webhook', url: `http://${HOST}:${(receiver!.address() as { port: number }).port}/events`, secret: SECRET },
      }),
    });
    expect(registered.status).toBe(201);

    // The watchers' receiving sides first, at the Contacts the SUBSCRIBEs give.
    const receiverFor = (port: number) =>
      startSipp({
        scenario: notifyReceiverUntilQuietUas(QUIET_MS),
        args: ['-i', HOST, '-p', String(port), '-t', 'u1', '-m', '1'],
        deadlineMs: 240_000,
        traceMessages: true,
      });
    const summaryUas = receiverFor(PORTS.summaryUas);
    const messageUas = receiverFor(PORTS.messageUas);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'msgsipp-'));
      dirs.push(dir);
      const subscribe = (event: { name: string; accept: string }, uacPort: number, uasPort: number, tag: string) =>
        startSipp({
          scenario: subscribeToPresentityUac({
            presentityUri: own,
            from: own,
            fromTag: tag,
            expires: 3600,
            tagFile: join(dir, tag),
            contact: `sip:${msisdn}@${HOST}:${uasPort}`,
            event,
          }),
          args: [`${HOST}:${fe!.port}`, '-i', HOST, '-p', String(uacPort), '-t', 'u1', '-m', '1', '-cid_str', `${tag}-%u`],
          deadlineMs: 15_000,
        }).done;
      const [summarySub, messageSub] = await Promise.all([
        subscribe({ name: 'message-summary', accept: 'application/simple-message-summary' }, PORTS.summaryUac, PORTS.summaryUas, `mwi${run}`),
        subscribe({ name: 'message', accept: 'text/plain, audio/*' }, PORTS.messageUac, PORTS.messageUas, `msg${run}`),
      ]);
      expect(summarySub, `message-summary SUBSCRIBE: ${summarySub.errors}`).toMatchObject({ code: 0 });
      expect(messageSub, `message SUBSCRIBE: ${messageSub.errors}`).toMatchObject({ code: 0 });
      const toTags = { summary: await sippToTag(join(dir, `mwi${run}`)), message: await sippToTag(join(dir, `msg${run}`)) };
      // The first NOTIFYs go out before the capture plays.
      await eventually('both first NOTIFYs delivered', () => (sink!.deliverer.stats.byOutcome.delivered ?? 0) >= 2 || undefined, { timeoutMs: 60_000 });

      const sum = await runTap(s, [generatorSource(gen)], { tap: 'generator', speed: Infinity, unknown: 'drop', directory });
      expect(sum.deadLetters).toBe(0);

      // The service: each missed call and SMS of that subscriber, once, signed.
      const about = () => hooks.filter((h) => h.body.subject === subject);
      await eventually(
        () =>
          `${missed(who!)} missed calls and ${sms(who!)} SMS at the webhook (webhook has ${JSON.stringify(hooks.map((h) => [h.type, h.body.subject, h.body.payload]))}; deriver ${JSON.stringify(deriver!.stats)})`,
        () =>
          (about().filter((h) => h.type === 'call.missed').length >= missed(who!) &&
            about().filter((h) => h.type === 'sms.received').length >= sms(who!) &&
            about().filter((h) => h.type === 'message.received').length >= sms(who!) &&
            about().filter((h) => h.type === 'message.waiting').length >= vm(who!)) ||
          undefined,
        { timeoutMs: 90_000 },
      );
      const [summaryHeard, messageHeard] = await Promise.all([summaryUas.done, messageUas.done]);
      await sleep(1000); // a late duplicate webhook would show now
      expect(about().filter((h) => h.type === 'call.missed')).toHaveLength(missed(who!));
      expect(about().filter((h) => h.type === 'sms.received')).toHaveLength(sms(who!));
      // Only that subscriber's (its registration's filter), each event id once.
      expect(hooks.filter((h) => !h.type.startsWith('event-type.')).every((h) => h.body.subject === subject)).toBe(true);
      expect(new Set(hooks.map((h) => h.id)).size).toBe(hooks.length);
      expect(hooks.every((h) => h.signatureOk && h.id === h.body.eventId)).toBe(true);
      const missedCalls = about().filter((x) => x.type === 'call.missed');
      // ISUP: released with cause 19 (no answer) — the IAM named the roaming number, the subscriber is the callee.
      expect(missedCalls.filter((h) => h.body.payload.protocol === 'isup')).toHaveLength(isupMissed(who!));
      for (const h of missedCalls.filter((x) => x.body.payload.protocol === 'isup'))
        expect(h.body.payload).toMatchObject({ cause: 19, callee: msisdn, caller: expect.stringMatching(/^\+\d+$/) });
      expect(missedCalls.filter((h) => h.body.payload.protocol === 'sip')).toHaveLength(sipMissed(who!));
      for (const h of about().filter((x) => x.type === 'sms.received')) expect(h.body.payload).toMatchObject({ protocol: 'map' });
      // The same SMS as a new message for services (seed 003's Event: message): its kind and its sender, the TPDU's originating number.
      const newMessages = about().filter((x) => x.type === 'message.received');
      expect(newMessages).toHaveLength(sms(who!));
      for (const h of newMessages)
        expect(h.body.payload).toMatchObject({ contentType: 'text/plain', context: 'text-message', origin: expect.stringMatching(/^tel:\+\d+$/) });
      // Each voice-mail summary the taps saw, per message class.
      const waiting = about().filter((x) => x.type === 'message.waiting');
      expect(waiting.length).toBeGreaterThanOrEqual(vm(who!));
      for (const h of waiting) expect(h.body.payload).toMatchObject({ messagesWaiting: expect.any(Boolean), messageClass: expect.any(String) });

      // What the watchers received on the wire.
      expect(endedQuietly(summaryHeard), `summary watcher exit ${summaryHeard.code}: ${summaryHeard.errors}`).toBe(true);
      expect(endedQuietly(messageHeard), `message watcher exit ${messageHeard.code}: ${messageHeard.errors}`).toBe(true);
      const summaries = receivedRequests(parseSippMessageTrace(summaryHeard.messages!), 'NOTIFY');
      const messages = receivedRequests(parseSippMessageTrace(messageHeard.messages!), 'NOTIFY');
      const cseqs = (ms: typeof summaries) => ms.map((m) => headerOf(m, 'CSeq'));
      // One NOTIFY per SMS after the first; CSeq from 1 without a gap or a step back in each dialog.
      expect(cseqs(messages)).toEqual(Array.from({ length: 1 + sms(who!) }, (_, k) => `${k + 1} NOTIFY`));
      expect(summaries.length).toBeGreaterThanOrEqual(2);
      expect(summaries.length).toBeLessThanOrEqual(1 + vm(who!));
      expect(cseqs(summaries)).toEqual(summaries.map((_, k) => `${k + 1} NOTIFY`));
      for (const [m, event, tag, call] of [
        ...summaries.map((m) => [m, 'message-summary', toTags.summary, `mwi${run}-1`] as const),
        ...messages.map((m) => [m, 'message', toTags.message, `msg${run}-1`] as const),
      ]) {
        expect(headerOf(m, 'Event', 'o')).toBe(event);
        expect(headerOf(m, 'Call-ID', 'i')).toBe(call);
        expect(headerOf(m, 'From', 'f')).toMatch(new RegExp(`;tag=${tag}$`));
        expect(headerOf(m, 'Subscription-State')).toMatch(/^active;expires=\d+$/);
        expect(Number(headerOf(m, 'Content-Length', 'l'))).toBe(Buffer.byteLength(m.body));
      }
      // message-summary: nothing waiting first, then the voicemail server's account and counts.
      for (const m of summaries) expect(headerOf(m, 'Content-Type', 'c')).toBe('application/simple-message-summary');
      expect(parseMessageSummary(summaries[0]!.body)).toEqual({ waiting: false, account: null, classes: [] });
      expect(parseMessageSummary(summaries.at(-1)!.body)).toMatchObject({
        waiting: true,
        account: 'sip:voicemail@ims.example.net',
        classes: [{ context: 'voice-message', newCount: expect.any(Number) }],
      });
      // message: no body first, then each SMS as text/plain naming its origin.
      expect(messages[0]!.body).toBe('');
      for (const m of messages.slice(1)) {
        expect(headerOf(m, 'Content-Type', 'c')).toBe('text/plain');
        expect(parseMessageNotice(m.body, 'text/plain')).toMatchObject({ context: 'text-message', origin: expect.stringMatching(/^tel:\+\d+$/) });
      }
    } finally {
      summaryUas.kill();
      messageUas.kill();
    }
  }, 300_000);
});
