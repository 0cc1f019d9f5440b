// Service events from signaling (hand-built and generated), presence and profile changes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceEvent, ServiceEventDeriverState, SignalingEvent } from '../../schemas/generated/records.ts';
import { avroType, loadSchemas } from '../../schemas/avroSchemas.ts';
import { isupEvent, mapEvent, sipRequest, sipResponse } from '../../test/support/signalingEvents.ts';
import { BUSY_MIX } from '../../test/support/busyMix.ts';
import { generateToPcap } from '../../tools/generator/generate.ts';
import { decodeCaptures, partyKey } from '../../taps/decodeCapture.ts';
import { signalingEvents } from '../../taps/eventBuilder.ts';
import { messagingEvent, noticeFacts, summaryFacts } from '../../kafka/messagingRecord.ts';
import { applySignaling, availabilityEvent, isEmptyState, newDeriverState, presenceEvent } from './serviceEventDerivation.ts';

const A = 'msisdn:+9997000000001';
const serviceEventType = avroType(loadSchemas().get('ServiceEvent')!);

/** Runs one subscriber's events through the derivation, checking each output encodes under the Avro schema. */
function derive(events: SignalingEvent[], start?: ServiceEventDeriverState): { state: ServiceEventDeriverState; out: ServiceEvent[] } {
  let state = start ?? newDeriverState(A);
  const out: ServiceEvent[] = [];
  for (const e of events) {
    const r = applySignaling(state, e);
    state = r.state;
    for (const ev of r.events) {
      expect(serviceEventType.isValid(ev), JSON.stringify(ev)).toBe(true);
      out.push(ev);
    }
  }
  return { state, out };
}

const called = { role: 'called' as const, calling: '+9997000000002', called: '+9997000000001', cic: 7 };
const asCalled = (e: SignalingEvent, id: string): SignalingEvent => ({ ...e, eventId: `test:-:${id}:0:called` });

describe('calls from ISUP', () => {
  it('IAM then REL without ANM is offered, then missed with the release cause; the state forgets the call', () => {
    const { state, out } = derive([isupEvent(A, 'IAM', 1000, called), isupEvent(A, 'ACM', 1100, called), isupEvent(A, 'REL', 9000, { ...called, cause: 19 })]);
    expect(out.map((e) => e.type)).toEqual(['call.offered', 'call.missed']);
    expect(out[1]!.call).toMatchObject({ caller: '+9997000000002', callee: '+9997000000001', cause: 19, offeredAt: 1000, protocol: 'isup' });
    expect(out[1]!.call!.callId).toBe(out[0]!.call!.callId);
    expect(out[1]!.subject).toBe(A);
    expect(isEmptyState(state)).toBe(true);
  });

  it('IAM, ANM, REL is offered then answered, never missed', () => {
    const { out } = derive([isupEvent(A, 'IAM', 1000, called), isupEvent(A, 'ANM', 2000, called), isupEvent(A, 'REL', 60_000, { ...called, cause: 16 })]);
    expect(out.map((e) => e.type)).toEqual(['call.offered', 'call.answered']);
  });

  it('the calling side gets no call events, and a withheld caller is not named', () => {
    expect(derive([isupEvent(A, 'IAM', 1, { ...called, role: 'calling' }), isupEvent(A, 'REL', 2, { ...called, role: 'calling' })]).out).toEqual([]);
    const { out } = derive([isupEvent(A, 'IAM', 1, { ...called, callingPresentation: 'restricted' })]);
    expect(out[0]!.call!.caller).toBeNull();
  });

  it('a REL of a circuit never seized (no IAM) is no event', () => {
    expect(derive([isupEvent(A, 'REL', 5, { ...called, cause: 17 })]).out).toEqual([]);
  });

  it('a replay gives the same event ids', () => {
    const events = [isupEvent(A, 'IAM', 1000, called), isupEvent(A, 'REL', 2000, { ...called, cause: 17 })];
    expect(derive(events).out.map((e) => e.eventId)).toEqual(derive(events).out.map((e) => e.eventId));
  });
});

describe('calls from SIP', () => {
  const c = { callId: 'c1@host', from: 'sip:+9997000000002@ims.example.net', to: 'sip:+9997000000001@ims.example.net' };
  it('INVITE then 486 is missed with the status; INVITE then CANCEL missed without one', () => {
    const busy = derive([asCalled(sipRequest(A, 'INVITE', 1, c), 'i1'), asCalled(sipResponse(A, 'INVITE', 486, 2, c), 'r1')]).out;
    expect(busy.map((e) => [e.type, e.call!.status])).toEqual([
      ['call.offered', null],
      ['call.missed', 486],
    ]);
    const cancel = derive([asCalled(sipRequest(A, 'INVITE', 1, c), 'i2'), asCalled(sipRequest(A, 'CANCEL', 2, c), 'x2')]).out;
    expect(cancel.map((e) => e.type)).toEqual(['call.offered', 'call.missed']);
  });

  it('a 407 challenge and the INVITE that follows it are one call; 200 answers it and a later CANCEL is not a miss', () => {
    const { out } = derive([
      asCalled(sipRequest(A, 'INVITE', 1, c), 'i1'),
      asCalled(sipResponse(A, 'INVITE', 407, 2, c), 'r1'),
      asCalled(sipRequest(A, 'INVITE', 3, { ...c, cseq: 2 }), 'i2'),
      asCalled(sipResponse(A, 'INVITE', 200, 4, c), 'r2'),
      asCalled(sipRequest(A, 'CANCEL', 5, c), 'x'),
    ]);
    expect(out.map((e) => e.type)).toEqual(['call.offered', 'call.answered']);
  });

  it('the caller asking for privacy is not named', () => {
    expect(derive([asCalled(sipRequest(A, 'INVITE', 1, { ...c, privacy: 'id' }), 'p')]).out[0]!.call!.caller).toBeNull();
  });
});

describe('registration and SMS', () => {
  it('REGISTER 200 with a binding registers, Expires 0 unregisters; a refresh is no event', () => {
    const reg = { callId: 'r@h', contacts: ['sip:a@10.0.0.1:5060;expires=600'] };
    const { out, state } = derive([
      sipResponse(A, 'REGISTER', 200, 1, reg),
      sipResponse(A, 'REGISTER', 200, 2, reg),
      sipResponse(A, 'REGISTER', 200, 3, { callId: 'r@h', contacts: [], expires: 0 }),
    ]);
    expect(out.map((e) => e.registration!.state)).toEqual(['registered', 'unregistered']);
    expect(out[0]!.registration).toMatchObject({ protocol: 'sip', via: 'sip:a@10.0.0.1:5060', expires: 600 });
    expect(state.registered).toBe('unregistered');
  });

  it('MAP updateLocation answered registers, purgeMS unregisters', () => {
    const { out } = derive([mapEvent(A, 'updateLocation', 'result', 1, { hlrNumber: '999100' }), mapEvent(A, 'purgeMS', 'invoke', 2, { vlrNumber: '999200' })]);
    expect(out.map((e) => [e.type, e.registration!.state, e.registration!.protocol])).toEqual([
      ['registration.changed', 'registered', 'map'],
      ['registration.changed', 'unregistered', 'map'],
    ]);
  });

  it('mt-ForwardSM is an SMS received, its result is not', () => {
    const { out } = derive([mapEvent(A, 'mt-ForwardSM', 'invoke', 1, { mscNumber: '999300' }), mapEvent(A, 'mt-ForwardSM', 'result', 2)]);
    expect(out.map((e) => e.type)).toEqual(['sms.received']);
    expect(out[0]!.sms).toEqual({ protocol: 'map', originator: null, servingNode: '999300' });
  });
});

describe('messaging facts (a mailbox summary, a new message) for services', () => {
  it('a summary is message.waiting per message class; a new message is message.received, the same event when announced again', () => {
    const summary = messagingEvent(
      A,
      summaryFacts({
        waiting: true,
        account: 'sip:vm@example.net',
        classes: [
          { context: 'voice-message', newCount: 2, oldCount: 8, urgentNew: 0, urgentOld: 0 },
          { context: 'fax-message', newCount: 1, oldCount: 0, urgentNew: 0, urgentOld: 0 },
        ],
      }),
      1000,
    );
    const note = {
      messageId: 'vm-42',
      contentType: 'audio/wav',
      origin: 'tel:+15550001',
      contact: 'https://vm.example.net/m/42',
      context: 'voice-message' as const,
      receivedAt: 2000,
      subject: null,
    };
    const once = messagingEvent(A, noticeFacts(note), 2000);
    const again = messagingEvent(A, noticeFacts(note), 2500);
    const { out } = derive([summary, once, again]);
    expect(out.map((e) => e.type)).toEqual(['message.waiting', 'message.waiting', 'message.received', 'message.received']);
    expect(out[0]!.messageWaiting).toEqual({
      messagesWaiting: true,
      account: 'sip:vm@example.net',
      messageClass: 'voice-message',
      newMessages: 2,
      oldMessages: 8,
    });
    expect(out[1]!.messageWaiting).toMatchObject({ messageClass: 'fax-message', newMessages: 1 });
    expect(out[2]!.message).toEqual({
      messageId: 'vm-42',
      contentType: 'audio/wav',
      origin: 'tel:+15550001',
      contact: 'https://vm.example.net/m/42',
      context: 'voice-message' as const,
      subject: null,
    });
    expect(out[3]!.eventId).toBe(out[2]!.eventId);
    expect(out[2]!.subject).toBe(A);
  });
});

describe('presence and availability changes', () => {
  it('carry the version in the event id, so a re-sent record is the same event', () => {
    const p = {
      subscriber: A,
      version: 4,
      basic: 'open',
      networkState: 'attached',
      callState: 'idle',
      connectability: 'connectable',
      servingNode: null,
      cellGlobalId: null,
      activities: null,
      note: null,
      pidf: '<presence/>',
      dialogs: null,
      updatedAt: 77,
    };
    const e = presenceEvent(p, 'current-presence[0]@5');
    expect(e).toMatchObject({
      eventId: `presence:${A}:4`,
      type: 'presence.changed',
      time: 77,
      presence: { basic: 'open', connectability: 'connectable', version: 4 },
    });
    expect(serviceEventType.isValid(e)).toBe(true);
    const a = availabilityEvent(
      { subscriber: A, version: 9, profiles: '{"active":"professional","profiles":[]}', previous: null, changedAt: 5, cause: 'activation' },
      'x',
    );
    expect(a.availability).toEqual({ version: 9, activeProfile: 'professional', cause: 'activation' });
    expect(serviceEventType.isValid(a)).toBe(true);
  });
});

describe('generated signaling (tools/generator → our decoder → the taps’ events → derivation)', () => {
  let dir: string;
  const bySubscriber = new Map<string, SignalingEvent[]>();
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'svc-events-'));
    const file = path.join(dir, 'gen.pcap');
    await generateToPcap({ subscribers: 40, durationSeconds: 1800, seed: 17, mix: BUSY_MIX, out: file });
    await decodeCaptures(
      [file],
      { countryCode: '' },
      {
        signal: (s) => {
          for (const e of signalingEvents(s, { tap: 'generator', capture: 'gen.pcap' }, (p) => partyKey(p.ids))) {
            const list = bySubscriber.get(e.subscriber) ?? [];
            list.push(e);
            bySubscriber.set(e.subscriber, list);
          }
        },
        failure: () => {},
      },
    );
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("an SMS the taps saw is sms.received and message.received, the latter naming the TPDU's originator", () => {
    let seen = 0;
    for (const events of bySubscriber.values())
      for (const e of events) {
        if (!(e.protocol === 'map' && e.message === 'mt-ForwardSM' && e.kind === 'invoke' && e.messaging?.notice)) continue;
        seen++;
        const r = applySignaling(newDeriverState(e.subscriber), e);
        expect(r.events.map((x) => x.type)).toEqual(['sms.received', 'message.received']);
        expect(r.events[1]!.message).toMatchObject({ contentType: 'text/plain', origin: e.messaging.notice.origin, context: 'text-message' });
        expect(r.events[1]!.message!.origin).toMatch(/^tel:\+\d+$/);
        expect(serviceEventType.isValid(r.events[1])).toBe(true);
      }
    expect(seen).toBeGreaterThan(0);
  });

  it('every missed or answered call was offered first, none is both, and the traffic has both kinds', () => {
    const counts: Record<string, number> = {};
    for (const [subscriber, events] of bySubscriber) {
      let state = newDeriverState(subscriber);
      const offered = new Set<string>();
      const ended = new Map<string, string>();
      for (const e of events) {
        const r = applySignaling(state, e);
        state = r.state;
        for (const ev of r.events) {
          counts[ev.type] = (counts[ev.type] ?? 0) + 1;
          if (ev.type === 'call.offered') offered.add(ev.call!.callId);
          if (ev.type === 'call.answered' || ev.type === 'call.missed') {
            expect(offered.has(ev.call!.callId), `${ev.type} of ${ev.call!.callId} not offered`).toBe(true);
            expect(ended.get(ev.call!.callId), `${ev.call!.callId} both answered and missed`).toBeUndefined();
            ended.set(ev.call!.callId, ev.type);
          }
          if (ev.type === 'call.missed' && ev.call!.protocol === 'isup') expect([16, 17, 19, 31]).toContain(ev.call!.cause);
        }
      }
    }
    expect(counts['call.offered']).toBeGreaterThan(0);
    expect(counts['call.missed']).toBeGreaterThan(0);
    expect(counts['call.answered']).toBeGreaterThan(0);
    expect(counts['registration.changed']).toBeGreaterThan(0);
    expect(counts['sms.received']).toBeGreaterThan(0);
  });
});
