// Issue 19 (Pi over ISC): an S-CSCF's third-party REGISTERs reach presence
// without any tap. SIP over loopback UDP to the ISC application server, the
// events it publishes read back from the real broker (Avro through the
// registry) and folded by the event manager's derivation: registered,
// refreshed with the UE's contacts from the message/sip body, de-registered.
// A malformed body is answered 400 and dead-lettered with its bytes; a REGISTER
// from an address that is not a configured S-CSCF is refused with 403.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter, SignalingEvent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { topicName } from '../../schemas/topology.ts';
import { apply } from '../../streams/event-manager/presence/derive.ts';
import type { SubscriberPresence } from '../../streams/event-manager/presence/model.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';
import { partyKey } from '../../taps/decodeCapture.ts';
import { IscApplicationServer } from '../../taps/reg-event/iscApplicationServer.ts';
import { SignalingPublisher } from '../../taps/signalingPublisher.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { openSipUdpClient, type SipUdpClient } from '../support/sipUdpClient.ts';
import { readTopic } from '../support/topicReader.ts';

const AOR = 'sip:alice@ims.test';

function thirdParty(port: number, host: string, cseq: number, expires: number, body?: string): string {
  const b = Buffer.from(body ?? '');
  return [
    `REGISTER sip:as@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${host}:6060;rport;branch=z9hG4bK-isc-${cseq}-${host}`,
    'Max-Forwards: 70',
    'From: <sip:scscf.ims.test>;tag=s1',
    `To: <${AOR}>`,
    'Call-ID: isc-it@scscf.ims.test',
    `CSeq: ${cseq} REGISTER`,
    'Contact: <sip:scscf.ims.test:6060>',
    `Expires: ${expires}`,
    ...(body !== undefined ? ['Content-Type: message/sip'] : []),
    `Content-Length: ${b.length}`,
    '',
    body ?? '',
  ].join('\r\n');
}

const ueRegister = (contact: string) =>
  [
    'REGISTER sip:ims.test SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-ue',
    `From: <${AOR}>;tag=u1`,
    `To: <${AOR}>`,
    'Call-ID: ue@10.0.0.1',
    'CSeq: 2 REGISTER',
    `Contact: <${contact}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

describe('ISC application server: third-party REGISTER → registration events on Kafka', () => {
  const s = isolatedSettings('isc-3pr', 2);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  let publisher: SignalingPublisher;
  let server: IscApplicationServer;
  let scscf: SipUdpClient;
  let stranger: SipUdpClient;

  beforeAll(async () => {
    await applyIsolated(s);
    await serde.loadIds();
    publisher = new SignalingPublisher(s, 'isc-it');
    await publisher.connect();
    server = await IscApplicationServer.start({
      host: '127.0.0.1',
      scscfs: ['127.0.0.1'],
      plan: numberingPlan(s),
      keyOf: async (p) => partyKey(p.ids),
      sink: {
        publish: async (e) => {
          await publisher.publish(e);
          await publisher.drain();
        },
        deadLetter: async (d) => {
          await publisher.deadLetter(d);
          await publisher.drain();
        },
      },
    });
    scscf = await openSipUdpClient({ host: '127.0.0.1' });
    stranger = await openSipUdpClient({ host: '127.0.0.2' });
  }, 60_000);
  afterAll(async () => {
    await scscf?.close();
    await stranger?.close();
    await server?.close();
    await publisher?.close();
    await cleanupIsolated(s);
  }, 60_000);

  it('answers 200 once recorded and the event manager derives the registration from the events', async () => {
    const send = async (c: SipUdpClient, text: string) => {
      c.socket.send(Buffer.from(text), server.port, '127.0.0.1');
      return c.next(5000);
    };
    const first = await send(scscf, thirdParty(server.port, '127.0.0.1', 1, 600));
    expect(first.status).toBe(200);
    expect(first.expires).toBe(600);
    expect(first.contacts[0]).toMatchObject({ uri: 'sip:scscf.ims.test:6060', expires: 600 });
    expect((await send(scscf, thirdParty(server.port, '127.0.0.1', 2, 3600, ueRegister('sip:alice@10.0.0.1:5060')))).status).toBe(200);
    expect((await send(scscf, thirdParty(server.port, '127.0.0.1', 3, 3600, 'not a SIP message'))).status).toBe(400);
    expect((await send(stranger, thirdParty(server.port, '127.0.0.2', 4, 3600))).status).toBe(403);
    expect((await send(scscf, thirdParty(server.port, '127.0.0.1', 5, 0))).status).toBe(200);
    expect(server.stats).toMatchObject({ registers: 3, deregistrations: 1, published: 3, malformed: 1, refusedSource: 1 });

    const records = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 2,
      count: 3,
      timeoutMs: 30_000,
      settleMs: 500,
    });
    const events = (await Promise.all(records.map((r) => serde.decode('signaling-events', r.value!)))) as SignalingEvent[];
    expect(records.every((r) => r.key?.toString() === 'aor:sip:alice@ims.test')).toBe(true);
    expect(events.map((e) => [e.source.tap, e.sip?.method, e.sip?.status, e.sip?.contacts])).toEqual([
      ['isc', 'REGISTER', 200, ['sip:scscf.ims.test:6060;expires=600']],
      ['isc', 'REGISTER', 200, ['sip:alice@10.0.0.1:5060;expires=3600']],
      ['isc', 'REGISTER', 200, []],
    ]);
    const states: SubscriberPresence[] = [];
    events.reduce<SubscriberPresence | undefined>((st, e) => {
      const next = apply(st, e).state;
      states.push(next);
      return next;
    }, undefined);
    expect(states.map((p) => p.registration.contacts.map((c) => c.uri))).toEqual([['sip:scscf.ims.test:6060'], ['sip:alice@10.0.0.1:5060'], []]);

    const dead = await readTopic({ brokers: s.kafka.brokers, topic: topicName(s.topics.prefix, 'dead-letters'), partitions: 2, count: 1, timeoutMs: 30_000 });
    const letter = (await serde.decode('dead-letters', dead[0]!.value!)) as DeadLetter;
    expect(letter).toMatchObject({ component: 'isc', layer: 'sip' });
    expect(letter.raw.toString()).toBe('not a SIP message');
  }, 90_000);
});
