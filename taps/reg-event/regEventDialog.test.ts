// The reg-event agent's dialog handling against a scripted registrar on
// loopback UDP: what it answers and when it subscribes again. (The real
// registrar is in regEventAgent.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../protocols/decode/sip/index.ts';
import type { DeadLetter, SignalingEvent } from '../../schemas/generated/records.ts';
import { openSipUdpClient, type SipUdpClient } from '../../test/support/sipUdpClient.ts';
import { RegEventAgent } from './regEventAgent.ts';

const HOST = '127.0.0.1';
const ALICE = { key: 'aor:sip:alice@ims.test', aor: 'sip:alice@ims.test' };
const PLAN = { countryCode: '', nationalPrefix: '0', internationalPrefix: '00' };

const reginfo = (version: number, state: 'full' | 'partial', contactState = 'active', event = 'registered') =>
  `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="${version}" state="${state}"><registration aor="sip:alice@ims.test" id="r" state="active">` +
  `<contact id="c1" state="${contactState}" event="${event}" expires="600"><uri>sip:ue@10.0.0.1</uri></contact></registration></reginfo>`;

describe('RegEventAgent dialogs', () => {
  let registrar: SipUdpClient | undefined;
  let agent: RegEventAgent | undefined;
  afterEach(async () => {
    await agent?.close();
    await registrar?.close();
  });

  async function setup(publish: (e: SignalingEvent) => Promise<void> = async () => undefined) {
    registrar = await openSipUdpClient();
    const events: SignalingEvent[] = [];
    const letters: DeadLetter[] = [];
    agent = await RegEventAgent.start({
      host: HOST,
      registrar: { transport: 'udp', host: HOST, port: registrar.port },
      watcher: 'sip:presence@ims.test',
      plan: PLAN,
      retryMs: 100,
      sink: {
        publish: async (e) => {
          await publish(e);
          events.push(e);
        },
        deadLetter: async (d) => void letters.push(d),
      },
    });
    await agent.setSubscribers([ALICE]);
    return { events, letters };
  }

  const answer = (req: SipMessage, status: number, extra: string[] = []) =>
    registrar!.socket.send(
      [
        `SIP/2.0 ${status} X`,
        ...req.headers.getAll('via').map((v) => `Via: ${v}`),
        `From: ${req.headers.get('from')}`,
        `To: ${req.headers.get('to')}${req.to?.tag ? '' : ';tag=reg1'}`,
        `Call-ID: ${req.callId}`,
        `CSeq: ${req.cseq.seq} ${req.cseq.method}`,
        ...extra,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      agent!.port,
      HOST,
    );
  let notifyCseq = 0;
  const notify = (sub: SipMessage, body: string, state = 'active;expires=600') => {
    const b = Buffer.from(body);
    registrar!.socket.send(
      Buffer.concat([
        Buffer.from(
          [
            `NOTIFY sip:presence@${HOST}:${agent!.port} SIP/2.0`,
            `Via: SIP/2.0/UDP ${HOST}:${registrar!.port};branch=z9hG4bK-n${++notifyCseq}`,
            `From: <${ALICE.aor}>;tag=reg1`,
            `To: <sip:presence@ims.test>;tag=${sub.from!.tag}`,
            `Call-ID: ${sub.callId}`,
            `CSeq: ${notifyCseq} NOTIFY`,
            'Event: reg',
            `Subscription-State: ${state}`,
            ...(b.length ? ['Content-Type: application/reginfo+xml'] : []),
            `Content-Length: ${b.length}`,
            '',
            '',
          ].join('\r\n'),
        ),
        b,
      ]),
      agent!.port,
      HOST,
    );
  };
  const nextRequest = async (): Promise<SipMessage> => {
    for (;;) {
      const m = await registrar!.next(3000);
      if (m.kind === 'request') return m;
    }
  };
  const nextResponse = async (): Promise<SipMessage> => {
    for (;;) {
      const m = await registrar!.next(3000);
      if (m.kind === 'response') return m;
    }
  };

  it('subscribes with Event: reg, applies NOTIFYs, and refreshes in the dialog when a partial NOTIFY skips a version', async () => {
    const { events } = await setup();
    const sub = await nextRequest();
    expect([sub.method, sub.event?.type, sub.headers.get('accept'), sub.requestUri]).toEqual(['SUBSCRIBE', 'reg', 'application/reginfo+xml', ALICE.aor]);
    answer(sub, 200, ['Expires: 600']);
    notify(sub, reginfo(0, 'full'));
    expect((await nextResponse()).status).toBe(200);
    expect(events.map((e) => e.sip?.contacts)).toEqual([['sip:ue@10.0.0.1;expires=600']]);
    notify(sub, reginfo(2, 'partial', 'terminated', 'expired'));
    expect((await nextResponse()).status).toBe(200);
    const refresh = await nextRequest();
    expect([refresh.method, refresh.callId, refresh.to?.tag, refresh.cseq.seq]).toEqual(['SUBSCRIBE', sub.callId, 'reg1', 2]);
    expect(agent!.stats.gaps).toBe(1);
    expect(events).toHaveLength(1);
  });

  it('starts a fresh dialog after a 481 to its refresh and after a deactivated subscription', async () => {
    await setup();
    const sub = await nextRequest();
    answer(sub, 200, ['Expires: 1']);
    const refresh = await nextRequest();
    expect(refresh.callId).toBe(sub.callId);
    answer(refresh, 481);
    const fresh = await nextRequest();
    expect(fresh.callId).not.toBe(sub.callId);
    expect(fresh.to?.tag).toBeUndefined();
    answer(fresh, 200, ['Expires: 600']);
    notify(fresh, '', 'terminated;reason=deactivated');
    expect((await nextResponse()).status).toBe(200);
    const again = await nextRequest();
    expect(again.callId).not.toBe(fresh.callId);
    expect(agent!.stats.subscribeFailures).toBe(1);
    expect(agent!.stats.terminated).toBe(1);
  });

  it('dead-letters a malformed document (answered 200), answers 500 when the events are not recorded, 481 to an unknown dialog', async () => {
    let fail = false;
    const { letters } = await setup(async () => {
      if (fail) throw new Error('brokers down');
    });
    const sub = await nextRequest();
    answer(sub, 200, ['Expires: 600']);
    notify(sub, '<reginfo version="0" state="full"><registration');
    expect((await nextResponse()).status).toBe(200);
    expect(letters.map((l) => [l.component, l.layer, l.reason, l.raw.toString()])).toEqual([
      ['reg-event', 'reginfo', 'malformed', '<reginfo version="0" state="full"><registration'],
    ]);
    fail = true;
    notify(sub, reginfo(0, 'full'));
    const refused = await nextResponse();
    expect([refused.status, refused.retryAfter]).toEqual([500, 1]);
    fail = false;
    notify({ ...sub, callId: 'unknown', from: sub.from } as SipMessage, reginfo(1, 'full'));
    expect((await nextResponse()).status).toBe(481);
    expect(agent!.stats).toMatchObject({ malformed: 1, unrecorded: 1, unknownDialog: 1 });
  });
});
