// The call-handling redirect server over real UDP (issue 16 part 5): the
// decision as 302 Contact / 486 / 480 / 603, the voicemail 302 with RFC 4458
// target and cause, caller / medium / urgency taken from the request, a
// retransmitted INVITE answered with the same bytes, the ACK absorbed, and
// bad requests refused (416, 404, 483, 420, 405) — never a crash. The owner
// is a stand-in; test/integration/callHandling.test.ts asks a real one.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallDecision, CallRequest } from '../../subscriber/call-handling/callDecision.ts';
import { presentityKey } from '../../front-end/subscribeHandler.ts';
import { openSipUdpClient, type SipUdpClient } from '../../test/support/sipUdpClient.ts';
import { TrustedProxies } from '../../protocols/sip/transport/trustedProxies.ts';
import { parseSipMessage, SipStreamFramer } from '../../protocols/decode/sip/index.ts';
import { createTestCertificateAuthority } from '../../infra/local/testCertificates.ts';
import { CallHandlingServer } from './callHandlingServer.ts';
import { OwnerDecisions, type CallDecider, type OwnerAnswer } from './ownerDecisions.ts';

const BUSY = 'msisdn:+351910000001';
const FORWARDED = 'msisdn:+351910000002';
const UNKNOWN = 'msisdn:+351910000003';
const ORPHAN = 'msisdn:+351910000004';
const asked: Array<{ key: string; request: Omit<CallRequest, 'at'> }> = [];

const decision = (d: Partial<CallDecision>): OwnerAnswer => ({
  kind: 'decision',
  memberId: 'em-1',
  decision: { action: 'accept', targets: [], urgentOverride: false, why: 'test', ...d },
});

const owners: CallDecider = {
  async decide(key: string, request: Omit<CallRequest, 'at'>): Promise<OwnerAnswer> {
    asked.push({ key, request });
    if (key === ORPHAN) return { kind: 'unavailable', reason: 'no-owner', detail: 'none' };
    if (key === UNKNOWN) return { kind: 'no-state' };
    if (key === FORWARDED) return decision({ action: 'forward', targets: [{ uri: 'tel:+33123456789', kind: 'number' }] });
    if (key === BUSY) {
      if (request.urgent) return decision({ action: 'accept', targets: [{ uri: 'sip:alice@10.0.0.5:5062', kind: 'contact' }], urgentOverride: true });
      return request.voicemail ? decision({ action: 'voicemail', reason: 'busy' }) : decision({ action: 'reject', reason: 'busy' });
    }
    return decision({ action: 'reject', reason: 'declined' });
  },
};

let server: CallHandlingServer;
let withVoicemail: CallHandlingServer;
let ua: SipUdpClient;
let n = 0;

const resolveKey = (uri: string) => presentityKey(uri, { countryCode: '351' });

beforeAll(async () => {
  // Loopback is the trusted proxy tier here: its P-Asserted-Identity is believed.
  server = await CallHandlingServer.start({ host: '127.0.0.1', port: 0, owners, resolveKey, trustedProxies: new TrustedProxies(['127.0.0.1']) });
  withVoicemail = await CallHandlingServer.start({ host: '127.0.0.1', port: 0, owners, resolveKey, voicemail: 'sip:vm@voicemail.example' });
  ua = await openSipUdpClient();
});
afterAll(async () => {
  await ua.close();
  await server.stop();
  await withVoicemail.stop();
});

function request(o: { method?: string; uri: string; to?: string; headers?: string[]; body?: string; branch?: string; from?: string }): {
  text: string;
  branch: string;
} {
  const method = o.method ?? 'INVITE';
  const branch = o.branch ?? `z9hG4bK-ch-${++n}`;
  const body = o.body ?? '';
  const text = [
    `${method} ${o.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=${branch}`,
    'Max-Forwards: 70',
    `From: <${o.from ?? 'sip:bob@corp.example'}>;tag=f${n}`,
    `To: <${o.to ?? o.uri}>`,
    `Call-ID: ch-${n}@test`,
    `CSeq: 1 ${method}`,
    ...(o.headers ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  return { text, branch };
}

async function send(port: number, text: string) {
  ua.socket.send(Buffer.from(text), port, '127.0.0.1');
  return ua.next(3000);
}

describe('call-handling redirect server', () => {
  it('forward → 302 with the target in Contact, no 100 Trying first', async () => {
    const res = await send(server.port, request({ uri: 'tel:+351910000002' }).text);
    expect(res.status).toBe(302);
    expect(res.headers.getAll('contact')).toEqual(['<tel:+33123456789>']);
    expect(res.to?.tag).toBeTruthy();
    expect(asked.at(-1)).toEqual({ key: FORWARDED, request: { caller: 'sip:bob@corp.example', medium: 'voice', urgent: false, voicemail: false } });
  });

  it('busy → 486; urgent (Priority) → 302 to the contact; with a voicemail → 302 to it with RFC 4458 target and cause', async () => {
    expect((await send(server.port, request({ uri: 'sip:+351910000001@example.com;user=phone' }).text)).status).toBe(486);
    const urgent = await send(server.port, request({ uri: 'tel:+351910000001', headers: ['Priority: urgent'] }).text);
    expect(urgent.status).toBe(302);
    expect(urgent.headers.getAll('contact')).toEqual(['<sip:alice@10.0.0.5:5062>']);
    const vm = await send(withVoicemail.port, request({ uri: 'tel:+351910000001' }).text);
    expect(vm.status).toBe(302);
    expect(vm.headers.getAll('contact')).toEqual(['<sip:vm@voicemail.example;target=tel:+351910000001;cause=486>']);
    expect(asked.at(-1)?.request.voicemail).toBe(true);
  });

  it('answers over TLS with --tls-port: an INVITE on a TLS connection gets its decision back on that connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'call-handling-tls-'));
    const ca = await createTestCertificateAuthority(dir);
    const pair = await ca.issue('call-handling', ['127.0.0.1']);
    const overTls = await CallHandlingServer.start({
      host: '127.0.0.1',
      port: 0,
      owners,
      resolveKey,
      tls: { cert: readFileSync(pair.certFile), key: readFileSync(pair.keyFile), port: 0 },
    });
    const socket = tlsConnect({ host: '127.0.0.1', port: overTls.tlsPort, ca: readFileSync(ca.caFile) });
    try {
      const framer = new SipStreamFramer({ maxMessageBytes: 65_536 });
      const answers: number[] = [];
      socket.on('data', (chunk: Buffer) => {
        for (const raw of framer.push(chunk)) answers.push(parseSipMessage(raw).status ?? 0);
      });
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.write(request({ uri: 'tel:+351910000002' }).text.replace('SIP/2.0/UDP', 'SIP/2.0/TLS'));
      for (let i = 0; i < 100 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(answers).toEqual([302]);
      expect(overTls.tlsPort).not.toBe(overTls.port);
    } finally {
      socket.destroy();
      await overTls.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('believes P-Asserted-Identity only from a trusted proxy: from anyone else the From is the caller', async () => {
    const untrusting = await CallHandlingServer.start({ host: '127.0.0.1', port: 0, owners, resolveKey, trustedProxies: new TrustedProxies(['10.0.0.0/8']) });
    try {
      await send(
        untrusting.port,
        request({ uri: 'tel:+351910000009', from: 'sip:caller@example.com', headers: ['P-Asserted-Identity: <sip:boss@corp.example>'] }).text,
      );
      expect(asked.at(-1)?.request).toMatchObject({ caller: 'sip:caller@example.com' });
    } finally {
      await untrusting.stop();
    }
  });

  it('the caller is the asserted identity; video from the SDP; MESSAGE is a message; declined → 603', async () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\n';
    const res = await send(
      server.port,
      request({ uri: 'tel:+351910000009', headers: ['P-Asserted-Identity: "Boss" <sip:boss@corp.example>'], body: sdp }).text,
    );
    expect(res.status).toBe(603);
    expect(asked.at(-1)?.request).toMatchObject({ caller: 'sip:boss@corp.example', medium: 'video' });
    const msg = await send(server.port, request({ method: 'MESSAGE', uri: 'tel:+351910000002', from: 'sip:anonymous@anonymous.invalid' }).text);
    expect(msg.status).toBe(302);
    expect(asked.at(-1)?.request).toEqual({ medium: 'message', urgent: false, voicemail: false });
  });

  it('no state → 480; no owner → 503 with Retry-After', async () => {
    expect((await send(server.port, request({ uri: 'tel:+351910000003' }).text)).status).toBe(480);
    const res = await send(server.port, request({ uri: 'tel:+351910000004' }).text);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(server.stats.ownerFailures['no-owner']).toBeGreaterThanOrEqual(1);
  });

  it('a retransmitted INVITE gets the same answer without asking again; its ACK and a late CANCEL are absorbed', async () => {
    const r = request({ uri: 'tel:+351910000002' });
    const first = await send(server.port, r.text);
    const before = asked.length;
    const again = await send(server.port, r.text);
    expect(again.to?.tag).toBe(first.to?.tag);
    expect(asked.length).toBe(before);
    expect(server.stats.retransmissions).toBeGreaterThanOrEqual(1);
    const ack = r.text.replace(/^INVITE /, 'ACK ').replace('CSeq: 1 INVITE', 'CSeq: 1 ACK');
    ua.socket.send(Buffer.from(ack), server.port, '127.0.0.1');
    const cancel = await send(server.port, r.text.replace(/^INVITE /, 'CANCEL ').replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL'));
    expect(cancel.status).toBe(200); // the ACK got no answer: the next message is the CANCEL's
  });

  it('bad requests are refused, never a crash: 416, 404, 483, 420, 405; OPTIONS 200', async () => {
    expect((await send(server.port, request({ uri: 'mailto:alice@example.com', to: 'mailto:alice@example.com' }).text)).status).toBe(416);
    expect((await send(server.port, request({ uri: 'sip:example.com', to: 'sip:example.com' }).text)).status).toBe(404);
    expect((await send(server.port, request({ uri: 'tel:+351910000002' }).text.replace('Max-Forwards: 70', 'Max-Forwards: 0'))).status).toBe(483);
    const req = await send(server.port, request({ uri: 'tel:+351910000002', headers: ['Require: foo'] }).text);
    expect(req.status).toBe(420);
    expect(req.headers.get('unsupported')).toBe('foo');
    expect((await send(server.port, request({ method: 'SUBSCRIBE', uri: 'tel:+351910000002' }).text)).status).toBe(405);
    expect((await send(server.port, request({ method: 'OPTIONS', uri: 'sip:127.0.0.1' }).text)).status).toBe(200);
    // Still answering.
    expect((await send(server.port, request({ uri: 'tel:+351910000002' }).text)).status).toBe(302);
  });
});

describe('OwnerDecisions', () => {
  let http: Server;
  let url: string;
  let status = 200;
  let delayMs = 0;
  beforeAll(async () => {
    http = createServer((req, res) => {
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? { action: 'accept', targets: [], urgentOverride: false, why: req.url } : { error: 'no' }));
      }, delayMs);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => http.close(() => r())));

  const owner = (httpUrl: string | null) => ({
    memberId: 'em-1',
    host: 'h',
    pid: 1,
    sipContact: null,
    sipsContact: null,
    httpUrl,
    reportedAt: 0,
    reportAgeMs: 0,
  });

  it('asks the owner with the query and maps 200, 404, 421, 403, a timeout and no owner', async () => {
    const d = new OwnerDecisions({ ownerOfKey: () => owner(url) }, { timeoutMs: 300, token: 't' });
    const ok = await d.decide('msisdn:+1', { caller: 'sip:a@b', medium: 'voice', urgent: true });
    expect(ok).toMatchObject({
      kind: 'decision',
      decision: { action: 'accept', why: '/subscribers/msisdn%3A%2B1/call-handling?caller=sip%3Aa%40b&medium=voice&urgent=true' },
    });
    status = 404;
    expect(await d.decide('k', {})).toEqual({ kind: 'no-state' });
    status = 421;
    expect(await d.decide('k', {})).toMatchObject({ kind: 'unavailable', reason: 'moved' });
    status = 403;
    expect(await d.decide('k', {})).toMatchObject({ kind: 'unavailable', reason: 'refused' });
    status = 200;
    delayMs = 1000;
    expect(await d.decide('k', {})).toMatchObject({ kind: 'unavailable', reason: 'timeout' });
    delayMs = 0;
    expect(await new OwnerDecisions({ ownerOfKey: () => null }, { timeoutMs: 300 }).decide('k', {})).toMatchObject({ kind: 'unavailable', reason: 'no-owner' });
    expect(await new OwnerDecisions({ ownerOfKey: () => owner(null) }, { timeoutMs: 300 }).decide('k', {})).toMatchObject({
      kind: 'unavailable',
      reason: 'no-owner',
    });
  });
});
