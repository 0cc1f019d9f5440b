// Transaction matching on hand-built exchanges (timeouts, bounds, branches)
// and on a capture, where every response tshark pairs with a request
// (sip.response-request) must be matched to a request with that Call-ID/CSeq.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark, tshark } from '../../test/support/captures.ts';
import { looksLikeSip } from '../../protocols/decode/sip/detect.ts';
import { parseSipMessage } from '../../protocols/decode/sip/message.ts';
import { udpPayloads } from '../../test/support/tsharkPayloads.ts';
import { SipTransactionTracker } from './sipTransactions.ts';
import { FrameDissector } from '../../protocols/decode/frameDissector.ts';
import { readCapture } from '../../protocols/decode/pcap/readCapture.ts';
import { SIP_FIXTURE, fixtureLog, fixturePath, tsharkNote } from '../../test/support/fixtures.ts';

function req(method: string, callId: string, seq: number, branch: string, ruri = 'sip:bob@Example.com'): Buffer {
  return Buffer.from(
    [
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP a.example.com;branch=${branch}`,
      'From: "Alice" <sip:alice@Atlanta.example.com;transport=udp>;tag=f1',
      `To: <${ruri}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${seq} ${method}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}
function resp(status: number, method: string, callId: string, seq: number, branch?: string): Buffer {
  return Buffer.from(
    [
      `SIP/2.0 ${status} X`,
      ...(branch ? [`Via: SIP/2.0/UDP a.example.com;branch=${branch}`] : []),
      'From: <sip:alice@atlanta.example.com>;tag=f1',
      'To: <sip:bob@example.com>;tag=t9',
      `Call-ID: ${callId}`,
      `CSeq: ${seq} ${method}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}
const s = (n: number) => BigInt(n) * 1_000_000_000n;

describe('SipTransactionTracker', () => {
  it('gives a response the request method, Request-URI and AoRs', () => {
    const t = new SipTransactionTracker();
    t.observe(parseSipMessage(req('PUBLISH', 'c1', 5, 'z9hG4bK1')), s(10));
    const prov = t.observe(parseSipMessage(resp(100, 'PUBLISH', 'c1', 5, 'z9hG4bK1')), s(10) + 5n);
    expect(prov?.firstFinal).toBe(false);
    const m = t.observe(parseSipMessage(resp(200, 'PUBLISH', 'c1', 5, 'z9hG4bK1')), s(11));
    expect(m?.request).toMatchObject({
      method: 'PUBLISH',
      requestUri: 'sip:bob@Example.com',
      fromAor: 'sip:alice@atlanta.example.com',
      toAor: 'sip:bob@example.com',
      fromTag: 'f1',
      cseq: 5,
    });
    expect(m?.latencyNs).toBe(s(1));
    expect(m?.firstFinal).toBe(true);
    expect(t.observe(parseSipMessage(resp(200, 'PUBLISH', 'c1', 5, 'z9hG4bK1')), s(12))?.firstFinal).toBe(false); // retransmitted final
  });

  it('distinguishes CSeq number, CSeq method and branch', () => {
    const t = new SipTransactionTracker();
    t.observe(parseSipMessage(req('INVITE', 'c2', 1, 'b-inv')), s(0));
    t.observe(parseSipMessage(req('CANCEL', 'c2', 1, 'b-inv')), s(1));
    t.observe(parseSipMessage(req('INVITE', 'c2', 1, 'b-fork2')), s(1));
    expect(t.observe(parseSipMessage(resp(200, 'CANCEL', 'c2', 1, 'b-inv')), s(2))?.request.method).toBe('CANCEL');
    expect(t.observe(parseSipMessage(resp(487, 'INVITE', 'c2', 1, 'b-fork2')), s(2))?.request.branch).toBe('b-fork2');
    expect(t.observe(parseSipMessage(resp(200, 'INVITE', 'c2', 2, 'b-inv')), s(2))).toBeUndefined();
    expect(t.stats.unmatched).toBe(1);
  });

  it('falls back to Call-ID/CSeq when the response branch differs (other leg)', () => {
    const t = new SipTransactionTracker();
    t.observe(parseSipMessage(req('REGISTER', 'c3', 9, 'leg-a')), s(0));
    expect(t.observe(parseSipMessage(resp(401, 'REGISTER', 'c3', 9, 'leg-b')), s(1))?.request.method).toBe('REGISTER');
  });

  it('retransmitted requests are not duplicated; ACK is not stored', () => {
    const t = new SipTransactionTracker();
    t.observe(parseSipMessage(req('OPTIONS', 'c4', 1, 'b')), s(0));
    t.observe(parseSipMessage(req('OPTIONS', 'c4', 1, 'b')), s(0) + 500_000_000n);
    t.observe(parseSipMessage(req('ACK', 'c4', 1, 'b2')), s(1));
    expect(t.size).toBe(1);
    expect(t.stats.retransmissions).toBe(1);
  });

  it('a provisional response keeps an INVITE transaction open (Timer C)', () => {
    const t = new SipTransactionTracker();
    t.observe(parseSipMessage(req('INVITE', 'c5', 1, 'b')), s(0));
    t.observe(parseSipMessage(req('OPTIONS', 'c6', 1, 'b')), s(0));
    expect(t.observe(parseSipMessage(resp(180, 'INVITE', 'c5', 1, 'b')), s(2))).toBeDefined();
    expect(t.observe(parseSipMessage(resp(486, 'INVITE', 'c5', 1, 'b')), s(60))?.request.method).toBe('INVITE');
    expect(t.observe(parseSipMessage(resp(200, 'OPTIONS', 'c6', 1, 'b')), s(60))).toBeUndefined();
  });

  it('expires by message time (deterministic) and bounds its size', () => {
    const t = new SipTransactionTracker({ timeoutNs: s(32), maxEntries: 3 });
    t.observe(parseSipMessage(req('SUBSCRIBE', 'old', 1, 'b')), s(0));
    expect(t.observe(parseSipMessage(resp(200, 'SUBSCRIBE', 'old', 1, 'b')), s(32))).toBeDefined();
    t.observe(parseSipMessage(req('SUBSCRIBE', 'x', 1, 'b')), s(33)); // sweeps 'old'
    expect(t.stats.expired).toBe(1);
    expect(t.observe(parseSipMessage(resp(200, 'SUBSCRIBE', 'old', 1, 'b')), s(33))).toBeUndefined();
    for (const id of ['a', 'b', 'c', 'd']) t.observe(parseSipMessage(req('MESSAGE', id, 1, 'z')), s(34));
    expect(t.size).toBe(3);
    expect(t.stats.evicted).toBe(2);
    expect(t.observe(parseSipMessage(resp(200, 'MESSAGE', 'a', 1, 'z')), s(34))).toBeUndefined();
    expect(t.observe(parseSipMessage(resp(200, 'MESSAGE', 'd', 1, 'z')), s(34))).toBeDefined();
  });
});

/** Responses tshark pairs with a request (sip.response-request) are matched to that request. */
function pairsMatchTshark(path: string): void {
  // tshark's request/response tracking: response frame → request frame
  const pairs = new Map(
    tshark(['-r', path, '-Y', 'sip.response-request', '-T', 'fields', '-e', 'frame.number', '-e', 'sip.response-request']).map((l) => {
      const [f, r] = l.split('\t');
      return [Number(f), Number(r)];
    }),
  );
  expect(pairs.size).toBeGreaterThan(0);
  const t = new SipTransactionTracker();
  const byFrame = new Map<number, ReturnType<typeof parseSipMessage>>();
  let checked = 0;
  let responsesPaired = 0;
  for (const d of udpPayloads(path)) {
    if (!looksLikeSip(d.payload)) continue;
    const m = parseSipMessage(d.payload);
    byFrame.set(d.frame, m);
    const match = t.observe(m, d.timeNs);
    const reqFrame = pairs.get(d.frame);
    // tshark also links ACKs to their INVITE; only responses are ours to match
    if (reqFrame === undefined || m.kind === 'request') continue;
    const original = byFrame.get(reqFrame)!;
    expect(match, `frame ${d.frame}`).toBeDefined();
    expect(match!.request.callId).toBe(original.callId);
    expect(match!.request.cseq).toBe(original.cseq.seq);
    // tshark may link a response to a CANCEL of the same CSeq; CSeq's method decides
    expect(match!.request.method).toBe(m.cseq.method);
    expect(match!.request.requestUri).toBe(original.requestUri);
    checked++;
  }
  for (const f of pairs.keys()) if (byFrame.get(f)?.kind === 'response') responsesPaired++;
  expect(checked).toBe(responsesPaired);
  expect(checked).toBeGreaterThan(10);
}

describe.skipIf(!haveCaptures || !haveTshark)('on captures', () => {
  for (const file of ['sip/register-invite-udp.pcap', 'sip/asterisk-subscribe-publish.pcapng']) {
    it(`${file}: responses tshark pairs with a request are matched to it`, () => pairsMatchTshark(capture(file)));
  }
});

describe.skipIf(!haveTshark)(`on the generated SIP fixture${tsharkNote}`, () => {
  it(`${SIP_FIXTURE}: responses tshark pairs with a request are matched to it`, () => pairsMatchTshark(fixturePath(SIP_FIXTURE)));
});

describe('on the generated SIP fixture, against the generator', () => {
  it(`${SIP_FIXTURE}: every response is matched to the request the generator answered`, async () => {
    const log = fixtureLog(SIP_FIXTURE);
    const t = new SipTransactionTracker();
    const pending = new Map<string, ReturnType<typeof parseSipMessage>>();
    let responses = 0;
    // Read with the project's own pcap reader and dissector: no tshark needed.
    const dissector = new FrameDissector();
    const datagrams = [];
    for await (const f of readCapture(fixturePath(SIP_FIXTURE))) datagrams.push(...dissector.dissect(f));
    expect(datagrams).toHaveLength(log.length);
    datagrams.forEach((d, i) => {
      const m = parseSipMessage(d.payload);
      const match = t.observe(m, d.timeNs);
      const key = `${m.callId} ${m.cseq.seq} ${m.cseq.method}`;
      if (m.kind === 'request') {
        if (m.method !== 'ACK') pending.set(key, m);
        return;
      }
      responses++;
      const original = pending.get(key);
      expect(original, `message ${i}: ${log[i]!.meta.message}`).toBeDefined();
      expect(match, `message ${i}: ${log[i]!.meta.message}`).toBeDefined();
      expect([match!.request.method, match!.request.callId, match!.request.cseq, match!.request.requestUri]).toEqual([
        original!.method,
        original!.callId,
        original!.cseq.seq,
        original!.requestUri,
      ]);
    });
    expect(responses).toBe(log.filter((p) => /^\d{3} /.test(p.meta.message)).length);
  });
});
