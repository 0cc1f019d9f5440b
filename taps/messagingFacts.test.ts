// What the event builder makes of messages for their recipient's
// message-summary and message watchers: a message-summary NOTIFY/MESSAGE body
// (RFC 3842) as a summary, a SIP MESSAGE and an SMS (MAP mt-ForwardSM) as a
// new message — for the recipient only, never the sender; a body that does
// not parse is no fact.
import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../protocols/decode/sip/index.ts';
import { messagingFacts } from './eventBuilder.ts';
import { sipSignal, type DecodedSignal, type Party } from './signal.ts';

const plan = { countryCode: '351' };
const sip = (method: string, headers: string[], body = '') =>
  parseSipMessage(
    Buffer.from(
      [
        `${method} sip:+351910000001@ims.example.net SIP/2.0`,
        'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1',
        'From: <sip:voicemail@ims.example.net>;tag=v1',
        'To: <sip:+351910000001@ims.example.net>',
        'Call-ID: c1@vm',
        `CSeq: 7 ${method}`,
        'Max-Forwards: 70',
        ...headers,
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n'),
    ),
  );
const signal = (m: ReturnType<typeof sip>) => sipSignal(m, undefined, 3, 1_000_000_000n, 0, plan);
const MWI = 'Messages-Waiting: yes\r\nVoice-Message: 2/1\r\n';

describe('event builder: messaging facts', () => {
  it('a message-summary NOTIFY (to its subject) or MESSAGE (to the called party) is a summary', () => {
    const n = signal(sip('NOTIFY', ['Event: message-summary', 'Content-Type: application/simple-message-summary'], MWI));
    expect(n.parties.map((p) => p.role)).toEqual(['subject']);
    expect(messagingFacts(n, n.parties[0]!, 'e1', 1000)?.summary).toEqual({
      waiting: true,
      account: null,
      classes: [{ context: 'voice-message', newCount: 2, oldCount: 1, urgentNew: 0, urgentOld: 0 }],
    });
    const m = signal(sip('MESSAGE', ['Content-Type: application/simple-message-summary'], MWI));
    const [from, to] = m.parties as [Party, Party];
    expect(messagingFacts(m, from, 'e2', 1000)).toBeNull();
    expect(messagingFacts(m, to, 'e2', 1000)?.summary?.waiting).toBe(true);
  });

  it('a summary body that does not parse, or none, is no fact', () => {
    const bad = signal(sip('NOTIFY', ['Event: message-summary', 'Content-Type: application/simple-message-summary'], 'Voice-Message: 1/0\r\n'));
    expect(messagingFacts(bad, bad.parties[0]!, 'e3', 1000)).toBeNull();
    const empty = signal(sip('NOTIFY', ['Event: message-summary']));
    expect(messagingFacts(empty, empty.parties[0]!, 'e4', 1000)).toBeNull();
  });

  it('an instant message is a new message for the called party, its kind and origin kept, one id per Call-ID and CSeq', () => {
    const m = signal(sip('MESSAGE', ['Content-Type: text/plain', 'Subject: hi'], 'hello'));
    expect(messagingFacts(m, m.parties[1]!, 'e5', 1000)?.notice).toEqual({
      messageId: 'sip:c1@vm:7',
      contentType: 'text/plain',
      origin: 'sip:voicemail@ims.example.net',
      contact: null,
      context: 'text-message',
      receivedAt: 1000,
      subject: 'hi',
    });
  });

  it('an SMS delivered to the subscriber (mt-ForwardSM invoke) is a text message from its originator, else its service centre', () => {
    const s = {
      frame: 9,
      timeNs: 2_000_000_000n,
      index: 0,
      protocol: 'map',
      message: 'mt-ForwardSM',
      kind: 'invoke',
      parties: [{ role: 'subject', ids: { imsi: '001010000000001' } }],
      ss7: { map: { params: { serviceCentre: { digits: '3519100000', nai: 1, np: 1 } } } },
    } as unknown as DecodedSignal;
    expect(messagingFacts(s, s.parties[0]!, 'ev', 2000)?.notice).toMatchObject({
      messageId: 'ev',
      contentType: 'text/plain',
      origin: 'tel:+3519100000',
      context: 'text-message',
    });
    expect(messagingFacts({ ...s, message: 'mo-ForwardSM' }, s.parties[0]!, 'ev', 2000)).toBeNull();
    // With the TPDU's international originator, that is the origin.
    const withOa = {
      ...s,
      ss7: { map: { params: { serviceCentre: { digits: '3519100000', nai: 1, np: 1 }, smsOriginator: { digits: '441632960001', nai: 1, np: 1 } } } },
    };
    expect(messagingFacts(withOa as unknown as DecodedSignal, s.parties[0]!, 'ev', 2000)?.notice?.origin).toBe('tel:+441632960001');
  });
});
