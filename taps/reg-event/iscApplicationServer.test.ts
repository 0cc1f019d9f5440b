// The ISC role over loopback UDP with an in-memory sink: what each request is
// answered, and that a 200 is never sent for a registration the sink refused.
import { afterEach, describe, expect, it } from 'vitest';
import type { DeadLetter, SignalingEvent } from '../../schemas/generated/records.ts';
import { openSipUdpClient, type SipUdpClient } from '../../test/support/sipUdpClient.ts';
import { partyKey } from '../decodeCapture.ts';
import { IscApplicationServer } from './iscApplicationServer.ts';

const PLAN = { countryCode: '49', nationalPrefix: '0', internationalPrefix: '00' };

function request(method: string, port: number, cseq: number, expires: number | undefined, to = 'sip:bob@ims.test'): Buffer {
  return Buffer.from(
    [
      `${method} sip:as@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:6060;rport;branch=z9hG4bK-u-${cseq}`,
      'From: <sip:scscf.ims.test>;tag=s1',
      `To: <${to}>`,
      'Call-ID: unit@scscf',
      `CSeq: ${cseq} ${method}`,
      'Contact: <sip:scscf.ims.test:6060>',
      ...(expires !== undefined ? [`Expires: ${expires}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

describe('IscApplicationServer', () => {
  let server: IscApplicationServer | undefined;
  let client: SipUdpClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
  });

  async function start(publish: (e: SignalingEvent) => Promise<void>, scscfs = ['127.0.0.0/8'], keyOf = partyKey) {
    const letters: DeadLetter[] = [];
    server = await IscApplicationServer.start({
      host: '127.0.0.1',
      scscfs,
      plan: PLAN,
      keyOf: async (p) => keyOf(p.ids),
      sink: { publish, deadLetter: async (d) => void letters.push(d) },
    });
    client = await openSipUdpClient();
    const ask = async (b: Buffer) => {
      client!.socket.send(b, server!.port, '127.0.0.1');
      return client!.next(3000);
    };
    return { ask, letters };
  }

  it('publishes a registration and answers 200 with the granted expiry; a tel-like user=phone To keys by MSISDN', async () => {
    const events: SignalingEvent[] = [];
    const { ask } = await start(async (e) => void events.push(e));
    const ok = await ask(request('REGISTER', server!.port, 1, 300, 'sip:+491701234567@ims.test;user=phone'));
    expect([ok.status, ok.expires, ok.contacts[0]?.expires]).toEqual([200, 300, 300]);
    expect(events.map((e) => [e.subscriber, e.sip?.contacts])).toEqual([['msisdn:+491701234567', ['sip:scscf.ims.test:6060;expires=300']]]);
  });

  it('answers 500 with Retry-After when the registration could not be recorded', async () => {
    const { ask } = await start(async () => {
      throw new Error('brokers down');
    });
    const r = await ask(request('REGISTER', server!.port, 1, 300));
    expect(r.status).toBe(500);
    expect(r.retryAfter).toBe(5);
    expect(server!.stats.unrecorded).toBe(1);
  });

  it('refuses sources that are not S-CSCFs, other methods, and a REGISTER without Expires (dead-lettered)', async () => {
    const events: SignalingEvent[] = [];
    const { ask, letters } = await start(async (e) => void events.push(e), ['127.0.0.1']);
    expect((await ask(request('MESSAGE', server!.port, 1, 300))).status).toBe(405);
    expect((await ask(request('OPTIONS', server!.port, 2, undefined))).status).toBe(200);
    expect((await ask(request('REGISTER', server!.port, 3, undefined))).status).toBe(400);
    expect(letters.map((l) => [l.component, l.layer, l.reason])).toEqual([['isc', 'isc', 'malformed']]);
    await server!.close();
    server = undefined;
    const refused = await start(async (e) => void events.push(e), ['192.0.2.1']);
    expect((await refused.ask(request('REGISTER', server!.port, 4, 300))).status).toBe(403);
    expect(events).toEqual([]);
  });

  it('answers 200 without publishing for an identity that is not ours', async () => {
    const events: SignalingEvent[] = [];
    const { ask } = await start(
      async (e) => void events.push(e),
      undefined,
      () => null,
    );
    expect((await ask(request('REGISTER', server!.port, 1, 300))).status).toBe(200);
    expect([events.length, server!.stats.notSubscriber]).toEqual([0, 1]);
  });
});
