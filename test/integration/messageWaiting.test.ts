// Message waiting (RFC 3842) and new-message events (seed 003) on the real
// stack (issue 17.5): a handset (a strict UDP UA) SUBSCRIBEs to its own
// `Event: message-summary` and `Event: message` through the SIP front end;
// the event manager owning it answers with the first NOTIFYs (nothing waiting;
// no body) through the notify sink. Then (a) a voicemail platform publishes a
// voice mail and its mailbox counts over the availability service's HTTP API,
// and (b) a generated capture with SMS (MAP mt-ForwardSM) and the voicemail
// server's message-summary NOTIFYs for that subscriber is replayed through the
// taps: each new message is one NOTIFY whose Content-Type is its kind and whose
// body names its origin and where to fetch it, each new summary one NOTIFY,
// all in CSeq order (the UA answers 500 to any CSeq that goes back).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { parseMessageNotice } from '../../presence-document/messageNotice.ts';
import { parseMessageSummary } from '../../presence-document/messageSummary.ts';
import { KafkaMessageService } from '../../services/availability-service/messagePublisher.ts';
import { startProfilesHttpApi, type ProfileStore } from '../../services/availability-service/profilesHttpApi.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';
import { generatePackets, subscriberIdentity, type GenerateOptions } from '../../tools/generator/generate.ts';
import { generatorSource } from '../../tools/generator/generatorSource.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const base = isolatedSettings('msgwait', 2);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const schema = `it_msgwait_${process.pid}`;
const run = `${Date.now().toString(36)}${process.pid}`;
const DURATION = 1200;
/** Only SMS and voice mails (and the periodic registrations and location updates every run has), in the last 20 minutes. */
const gen: GenerateOptions = {
  subscribers: 4,
  durationSeconds: DURATION,
  seed: 17,
  startTime: Math.floor(Date.now() / 1000) - DURATION - 60,
  mix: {
    mtCallsPerHour: 0,
    moCallsPerHour: 0,
    mtSmsPerHour: 6,
    moSmsPerHour: 0,
    atiPerHour: 0,
    sipCallsPerHour: 0,
    publishPerHour: 0,
    subscribePerHour: 0,
    messagePerHour: 0,
    voicemailPerHour: 6,
    unknownShare: 0,
    imsShare: 1,
    powerCycleSeconds: 100 * 3600,
  },
};

let em: EventManager | undefined;
let fe: SipFrontEnd | undefined;
let sink: NotifySink | undefined;
let messages: KafkaMessageService | undefined;
let http: Server | undefined;
let ua: StrictWatcher | undefined;
const directory = new SubscriberDirectory(testDatabaseUrl, schema);

beforeAll(async () => {
  await applyIsolated(s);
  await directory.migrate();
  await directory.provision(
    Array.from({ length: gen.subscribers }, (_, i) => {
      const id = subscriberIdentity(i, {});
      return { imsi: id.imsi, msisdn: `+${id.msisdn}`, aor: id.aor };
    }),
  );
  em = await startEventManager(s, { memberId: `em-msgwait-${run}`, rulesSchema: schema });
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: `fe-msgwait-${run}`, groups: false });
  sink = await startNotifySink(s, { host: HOST, port: 0, drainMs: 1000 });
  messages = new KafkaMessageService(s);
  await messages.start();
  const noProfiles = {} as ProfileStore; // only the messaging routes are asked
  http = await startProfilesHttpApi({ store: noProfiles, settings: s, messages }, 0, HOST);
  ua = await StrictWatcher.open();
  await eventually('both partitions restored', () => em!.processor.ctx.partitions().length === 2, { timeoutMs: 60_000 });
}, 180_000);

afterAll(async () => {
  await ua?.close();
  if (http) {
    http.closeAllConnections();
    await new Promise((r) => http!.close(r));
  }
  await messages?.close();
  await fe?.stop();
  await em?.stop();
  await sink?.stop();
  await directory.close();
  await cleanupIsolated(s);
  await dropSchema(schema);
}, 120_000);

describe('Event: message-summary and Event: message over SIP (RFC 3842, seed 003)', () => {
  it('first NOTIFYs, then one per voice mail / SMS / summary change from the HTTP publish and the replayed capture, in CSeq order', async () => {
    // The subscriber the capture has both an SMS and a voice mail for.
    const metas = [...generatePackets(gen)].map((p) => p.meta);
    const sms = (i: number) => metas.filter((m) => m.subscriber === i && m.message === 'mt-ForwardSM.invoke').length;
    const vm = (i: number) => metas.filter((m) => m.subscriber === i && m.protocol === 'sip' && m.message === 'NOTIFY').length;
    const who = Array.from({ length: gen.subscribers }, (_, i) => i).find((i) => sms(i) > 0 && vm(i) > 0);
    expect(who, 'a subscriber with an SMS and a voice mail in the capture').toBeDefined();
    const id = subscriberIdentity(who!, {});
    const own = `sip:+${id.msisdn}@ims.example.net;user=phone`;

    const summaryCall = `mwi-${run}`;
    const messageCall = `msg-${run}`;
    ua!.subscribe({
      to: own,
      from: own,
      callId: summaryCall,
      port: fe!.port,
      host: HOST,
      event: 'message-summary',
      accept: 'application/simple-message-summary',
      expires: 3600,
    });
    ua!.subscribe({ to: own, from: own, callId: messageCall, port: fe!.port, host: HOST, event: 'message', accept: 'text/plain, audio/*', expires: 3600 });
    // Someone else's mailbox is refused at the front end.
    const nosy = `nosy-${run}`;
    ua!.subscribe({
      to: own,
      from: 'sip:eve@ims.example.net',
      callId: nosy,
      port: fe!.port,
      host: HOST,
      event: 'message-summary',
      accept: 'application/simple-message-summary',
    });
    await eventually('the three SUBSCRIBEs answered', () => [summaryCall, messageCall, nosy].every((c) => ua!.responses.some((r) => r.callId === c)), {
      timeoutMs: 15_000,
    });
    expect(ua!.responses.find((r) => r.callId === nosy)?.status).toBe(403);
    await eventually('both first NOTIFYs', () => ua!.accepted(summaryCall).length >= 1 && ua!.accepted(messageCall).length >= 1, { timeoutMs: 60_000 });
    const [firstSummary] = ua!.accepted(summaryCall);
    expect(firstSummary).toMatchObject({ subscriptionState: expect.stringMatching(/^active/), contentType: 'application/simple-message-summary' });
    expect(parseMessageSummary(firstSummary!.body)).toEqual({ waiting: false, account: null, classes: [] });
    expect(ua!.accepted(messageCall)[0]).toMatchObject({ subscriptionState: expect.stringMatching(/^active/), body: '' });

    // (a) The voicemail platform: a voice mail, then the mailbox's counts.
    const httpBase = `http://${HOST}:${(http!.address() as AddressInfo).port}`;
    const json = { 'content-type': 'application/json' };
    const posted = await fetch(`${httpBase}/subscribers/${encodeURIComponent(`+${id.msisdn}`)}/messages`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ messageId: `vm-${run}`, contentType: 'audio/wav', origin: 'tel:+441632960001', contact: `https://vm.example.net/m/${run}` }),
    });
    expect(posted.status).toBe(202);
    const put = await fetch(`${httpBase}/subscribers/${encodeURIComponent(`+${id.msisdn}`)}/message-summary`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ account: 'sip:vm@vm.example.net', messages: { 'voice-message': { new: 1, old: 4, urgentNew: 1 } } }),
    });
    expect(put.status).toBe(202);
    await eventually('the voice mail and the new counts', () => ua!.accepted(messageCall).length >= 2 && ua!.accepted(summaryCall).length >= 2, {
      timeoutMs: 60_000,
    });
    const voiceMail = ua!.accepted(messageCall)[1]!;
    expect(voiceMail.contentType).toBe('audio/wav');
    expect(parseMessageNotice(voiceMail.body, voiceMail.contentType)).toMatchObject({
      messageId: `vm-${run}`,
      origin: 'tel:+441632960001',
      contact: `https://vm.example.net/m/${run}`,
      context: 'voice-message',
    });
    expect(parseMessageSummary(ua!.accepted(summaryCall)[1]!.body)).toEqual({
      waiting: true,
      account: 'sip:vm@vm.example.net',
      classes: [{ context: 'voice-message', newCount: 1, oldCount: 4, urgentNew: 1, urgentOld: 0 }],
    });

    // (b) The capture: SMS to the subscriber (mt-ForwardSM) and the voicemail server's message-summary NOTIFYs.
    const sum = await runTap(s, [generatorSource(gen)], { tap: 'generator', speed: Infinity, unknown: 'drop', directory });
    expect(sum.deadLetters).toBe(0);
    await eventually(
      `${sms(who!)} SMS notices and a summary from the capture`,
      () => ua!.accepted(messageCall).length >= 2 + sms(who!) && ua!.accepted(summaryCall).length >= 3,
      { timeoutMs: 60_000 },
    );
    const texts = ua!.accepted(messageCall).slice(2);
    expect(texts.map((n) => n.contentType)).toEqual(texts.map(() => 'text/plain'));
    for (const n of texts)
      expect(parseMessageNotice(n.body, n.contentType)).toMatchObject({ context: 'text-message', origin: expect.stringMatching(/^tel:\+\d+$/), contact: null });
    const fromCapture = parseMessageSummary(ua!.accepted(summaryCall).at(-1)!.body);
    expect(fromCapture).toMatchObject({ waiting: true, account: 'sip:voicemail@ims.example.net', classes: [{ context: 'voice-message' }] });

    // Every NOTIFY accepted (none went back in CSeq), CSeqs contiguous per dialog.
    expect(ua!.backwards).toEqual([]);
    for (const c of [summaryCall, messageCall]) {
      const cseqs = ua!.accepted(c).map((n) => n.cseq);
      expect(cseqs).toEqual(cseqs.map((_, k) => cseqs[0]! + k));
    }
  });
});
