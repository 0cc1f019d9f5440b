// SIP authentication at the front end (issue 13.1, 13.2), against real peers:
// SIPp answers our digest challenge with its own implementation
// ([authentication], -au/-ap); credentials live in PostgreSQL as HA1s. The
// watcher the rules judge is who authenticated, whatever From says; a PUBLISH
// for someone else is 403; a trusted proxy's P-Asserted-Identity is believed,
// anyone else's is not; an expired nonce is answered stale=true.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { presentityKey } from '../../front-end/subscribeHandler.ts';
import { RequestAuthenticator } from '../../front-end/requestAuthenticator.ts';
import { TrustedProxies } from '../../protocols/sip/transport/trustedProxies.ts';
import type { PublishService } from '../../front-end/publishHandler.ts';
import { createHash } from 'node:crypto';
import { digestResponse, parseDigestCredentials } from '../../protocols/sip/auth/digest.ts';
import { parseSipMessage, SipStreamFramer } from '../../protocols/decode/sip/index.ts';
import { createTestCertificateAuthority } from '../../infra/local/testCertificates.ts';
import { StatelessNonces } from '../../protocols/sip/auth/statelessNonce.ts';
import type { PublishRequest, Subscription } from '../../schemas/generated/records.ts';
import { SipCredentials } from '../../subscriber/credentials/sipCredentials.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { authenticatedSubscribeUac } from '../../tools/sipp/scenarios.ts';
import { dropSchema, testDatabaseUrl, testSchema } from '../support/database.ts';
import { digestAuthorization } from '../support/digestAnswer.ts';
import { freeUdpPort } from '../support/ports.ts';
import { openSipUdpClient, type SipUdpClient } from '../support/sipUdpClient.ts';

const HOST = '127.0.0.1';
const REALM = 'presence.test';
const HAVE_SIPP = sippAvailable();
if (!HAVE_SIPP) console.warn('sipp not found on PATH (Debian: apt-get install sip-tester): the SIPp parts of the SIP authentication test are skipped');

const schema = testSchema('sip_auth');
const credentials = new SipCredentials(testDatabaseUrl, schema);
const nonces = new StatelessNonces(Buffer.from('front ends share this'), REALM, 60_000);
const recorded: Subscription[] = [];
const published: PublishRequest[] = [];
let fe: SipFrontEnd;
const clients: SipUdpClient[] = [];

const publish: PublishService = {
  async submit(_key, value) {
    published.push(value);
    return { requestId: value.requestId, status: 200, reason: null, etag: 'e1', expires: value.expires, frontEnd: value.frontEnd } as never;
  },
  async store(_key, value) {
    published.push(value);
  },
};

beforeAll(async () => {
  await credentials.migrate();
  await credentials.set('alice', REALM, 'sip:alice@example.com', 'wonderland');
  await credentials.set('bob', REALM, 'sip:bob@example.com', 'builder');
  fe = await SipFrontEnd.start({
    host: HOST,
    port: 0,
    resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
    sink: { record: async (_k, v) => void recorded.push(v) },
    publish,
    auth: new RequestAuthenticator({ mode: 'digest', realm: REALM, nonces, credentials, trustedProxies: new TrustedProxies(['127.0.0.2/31']) }),
    mayPublishFor: (p, d) => credentials.mayPublishFor(p, d),
  });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await fe?.stop();
  await credentials.close();
  await dropSchema(schema);
});

async function client(host = HOST): Promise<SipUdpClient> {
  const c = await openSipUdpClient({ host });
  clients.push(c);
  return c;
}

function request(
  c: SipUdpClient,
  o: { method: 'SUBSCRIBE' | 'PUBLISH'; uri: string; from: string; callId: string; cseq: number; extra?: string[]; host?: string },
): Buffer {
  const body =
    o.method === 'PUBLISH'
      ? `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${o.uri}"><tuple id="t"><status><basic>open</basic></status></tuple></presence>`
      : '';
  return Buffer.from(
    [
      `${o.method} ${o.uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${o.host ?? HOST}:${c.port};branch=z9hG4bK${o.callId}${o.cseq}`,
      `From: <${o.from}>;tag=f-${o.callId}`,
      `To: <${o.uri}>`,
      `Call-ID: ${o.callId}`,
      `CSeq: ${o.cseq} ${o.method}`,
      `Contact: <sip:w@${o.host ?? HOST}:${c.port}>`,
      'Max-Forwards: 70',
      'Event: presence',
      'Expires: 600',
      ...(o.extra ?? []),
      ...(body ? ['Content-Type: application/pidf+xml'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );
}

/** Answers a 401 the way a handset would, with SHA-256 (our own maths: SIPp covers the interop with MD5 below). */
const authorization = digestAuthorization;

// SIPp 3.6 answers only the first challenge and only with MD5, like old handsets:
// a front end configured to offer MD5 first (PRESENCE_SIP_DIGEST_ALGORITHMS=MD5,SHA-256) serves them.
describe.skipIf(!HAVE_SIPP)('digest authentication with SIPp as the handset (MD5 offered first)', () => {
  let md5First: SipFrontEnd;
  beforeAll(async () => {
    md5First = await SipFrontEnd.start({
      host: HOST,
      port: 0,
      resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
      sink: { record: async (_k, v) => void recorded.push(v) },
      auth: new RequestAuthenticator({
        mode: 'digest',
        realm: REALM,
        nonces,
        credentials,
        trustedProxies: new TrustedProxies([]),
        algorithms: ['MD5', 'SHA-256'],
      }),
    });
  });
  afterAll(async () => md5First?.stop());

  for (const [password, expect200] of [
    ['wonderland', true],
    ['not-her-password', false],
  ] as const) {
    it(`${expect200 ? 'the right password gets 200' : 'a wrong password gets 403'} after the 401 challenge`, async () => {
      const before = recorded.length;
      const xml = authenticatedSubscribeUac({
        presentityUri: 'sip:carol@example.com',
        from: 'sip:somebody-else@example.com',
        expect: expect200 ? '200' : '403',
      });
      const args = [`${HOST}:${md5First.port}`, '-i', HOST, '-p', String(await freeUdpPort()), '-t', 'u1', '-m', '1', '-au', 'alice', '-ap', password];
      const result = await startSipp({ scenario: xml, args, deadlineMs: 15_000 }).done;
      expect(result, `sipp exit ${result.code}: ${result.errors}`).toMatchObject({ code: 0 });
      // The watcher is who authenticated (alice), not the From SIPp wrote.
      expect(recorded.slice(before).map((r) => r.watcherUri)).toEqual(expect200 ? ['sip:alice@example.com'] : []);
    }, 30_000);
  }
});

describe('authorization on the authenticated identity', () => {
  it('challenges with SHA-256 then MD5; the authenticated watcher is recorded whatever From says; a PUBLISH for someone else is 403, for oneself it goes through', async () => {
    const c = await client();
    c.socket.send(request(c, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:fake@example.com', callId: 'a1', cseq: 1 }), fe.port, HOST);
    const challenge = await c.next();
    expect(challenge.status).toBe(401);
    const offered = challenge.headers.getAll('www-authenticate');
    expect(offered.map((v) => parseDigestCredentials(v)?.['algorithm'])).toEqual(['SHA-256', 'MD5']);
    const auth = (method: string, uri: string) => authorization(offered[0]!, { username: 'alice', password: 'wonderland', method, uri });

    c.socket.send(
      request(c, {
        method: 'SUBSCRIBE',
        uri: 'sip:carol@example.com',
        from: 'sip:fake@example.com',
        callId: 'a1',
        cseq: 2,
        extra: [auth('SUBSCRIBE', 'sip:carol@example.com')],
      }),
      fe.port,
      HOST,
    );
    expect((await c.next()).status).toBe(200);
    expect(recorded.at(-1)?.watcherUri).toBe('sip:alice@example.com');

    c.socket.send(
      request(c, {
        method: 'PUBLISH',
        uri: 'sip:bob@example.com',
        from: 'sip:bob@example.com',
        callId: 'p1',
        cseq: 1,
        extra: [auth('PUBLISH', 'sip:bob@example.com')],
      }),
      fe.port,
      HOST,
    );
    const forged = await c.next();
    expect(forged.status, forged.reason).toBe(403);
    c.socket.send(
      request(c, {
        method: 'PUBLISH',
        uri: 'sip:alice@example.com',
        from: 'sip:alice@example.com',
        callId: 'p2',
        cseq: 1,
        extra: [auth('PUBLISH', 'sip:alice@example.com')],
      }),
      fe.port,
      HOST,
    );
    expect((await c.next()).status).toBe(200);
    expect(published.map((p) => [p.presentityUri, p.publisherUri])).toEqual([['sip:alice@example.com', 'sip:alice@example.com']]);

    // Delegation: bob lets alice publish for him.
    await credentials.delegate('aor:sip:bob@example.com', 'aor:sip:alice@example.com');
    c.socket.send(
      request(c, {
        method: 'PUBLISH',
        uri: 'sip:bob@example.com',
        from: 'sip:alice@example.com',
        callId: 'p3',
        cseq: 1,
        extra: [auth('PUBLISH', 'sip:bob@example.com')],
      }),
      fe.port,
      HOST,
    );
    expect((await c.next()).status).toBe(200);

    // Bob takes it back: alice's next PUBLISH for him is refused again.
    expect(await credentials.undelegate('aor:sip:bob@example.com', 'aor:sip:alice@example.com')).toBe(true);
    expect(await credentials.undelegate('aor:sip:bob@example.com', 'aor:sip:alice@example.com')).toBe(false);
    c.socket.send(
      request(c, {
        method: 'PUBLISH',
        uri: 'sip:bob@example.com',
        from: 'sip:alice@example.com',
        callId: 'p4',
        cseq: 1,
        extra: [auth('PUBLISH', 'sip:bob@example.com')],
      }),
      fe.port,
      HOST,
    );
    expect((await c.next()).status).toBe(403);
  });

  it('replayed credentials are refused; an expired nonce gets 401 stale=true', async () => {
    const c = await client();
    c.socket.send(request(c, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:alice@example.com', callId: 'r1', cseq: 1 }), fe.port, HOST);
    const offered = (await c.next()).headers.getAll('www-authenticate')[0]!;
    const auth = authorization(offered, { username: 'alice', password: 'wonderland', method: 'SUBSCRIBE', uri: 'sip:carol@example.com' });
    c.socket.send(
      request(c, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:alice@example.com', callId: 'r1', cseq: 2, extra: [auth] }),
      fe.port,
      HOST,
    );
    expect((await c.next()).status).toBe(200);
    c.socket.send(
      request(c, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:alice@example.com', callId: 'r2', cseq: 2, extra: [auth] }),
      fe.port,
      HOST,
    );
    expect((await c.next()).status).toBe(403);

    const old = `Digest realm="${REALM}", nonce="${nonces.issue(Date.now() - 120_000)}", algorithm=SHA-256, qop="auth"`;
    const stale = authorization(old, { username: 'alice', password: 'wonderland', method: 'SUBSCRIBE', uri: 'sip:carol@example.com' });
    c.socket.send(
      request(c, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:alice@example.com', callId: 'r3', cseq: 1, extra: [stale] }),
      fe.port,
      HOST,
    );
    const answer = await c.next();
    expect(answer.status).toBe(401);
    expect(answer.headers.getAll('www-authenticate')[0]).toMatch(/stale=true/);
  });

  it('an answer without qop (RFC 2069: no nc or cnonce to tell a replay by) is challenged again, never taken', async () => {
    const c = await client();
    const sub = (cseq: number, extra: string[] = []) =>
      c.socket.send(
        request(c, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:alice@example.com', callId: 'nq1', cseq, extra }),
        fe.port,
        HOST,
      );
    sub(1);
    const p = parseDigestCredentials((await c.next()).headers.getAll('www-authenticate')[0]!)!;
    const ha1 = createHash('sha256').update(`alice:${REALM}:wonderland`).digest('hex');
    const response = digestResponse('SHA-256', ha1, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', nonce: p['nonce']! });
    const before = recorded.length;
    sub(2, [
      `Authorization: Digest username="alice", realm="${REALM}", nonce="${p['nonce']}", uri="sip:carol@example.com", response="${response}", algorithm=SHA-256`,
    ]);
    expect((await c.next()).status).toBe(401);
    expect(recorded.length).toBe(before);
  });

  it('PUBLISH is challenged as SUBSCRIBE is: 401 without credentials, 403 for a wrong password or replayed ones, and nothing published but the right one', async () => {
    const c = await client();
    const before = published.length;
    const pub = (callId: string, cseq: number, extra: string[] = []) =>
      c.socket.send(request(c, { method: 'PUBLISH', uri: 'sip:alice@example.com', from: 'sip:alice@example.com', callId, cseq, extra }), fe.port, HOST);
    pub('pa1', 1);
    const challenge = await c.next();
    expect(challenge.status).toBe(401);
    const offered = challenge.headers.getAll('www-authenticate')[0]!;
    pub('pa1', 2, [authorization(offered, { username: 'alice', password: 'not-wonderland', method: 'PUBLISH', uri: 'sip:alice@example.com' })]);
    expect((await c.next()).status).toBe(403);
    const right = authorization(offered, { username: 'alice', password: 'wonderland', method: 'PUBLISH', uri: 'sip:alice@example.com' });
    pub('pa1', 3, [right]);
    expect((await c.next()).status).toBe(200);
    pub('pa2', 1, [right]);
    expect((await c.next()).status).toBe(403);
    expect(published.length).toBe(before + 1);
  });

  it('P-Asserted-Identity: believed from a trusted proxy (listed by network) without a challenge, ignored from anyone else', async () => {
    const other = await client('127.0.0.3');
    other.socket.send(
      request(other, {
        method: 'SUBSCRIBE',
        uri: 'sip:carol@example.com',
        from: 'sip:x@example.com',
        callId: 't0',
        cseq: 1,
        extra: ['P-Asserted-Identity: <sip:dave@example.com>'],
        host: '127.0.0.3',
      }),
      fe.port,
      HOST,
    );
    expect((await other.next()).status).toBe(200);
    expect(recorded.at(-1)?.watcherUri).toBe('sip:dave@example.com');
    const proxy = await client('127.0.0.2');
    const pai = 'P-Asserted-Identity: <sip:bob@example.com>';
    proxy.socket.send(
      request(proxy, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:x@example.com', callId: 't1', cseq: 1, extra: [pai], host: '127.0.0.2' }),
      fe.port,
      HOST,
    );
    expect((await proxy.next()).status).toBe(200);
    expect(recorded.at(-1)?.watcherUri).toBe('sip:bob@example.com');
    const outsider = await client();
    outsider.socket.send(
      request(outsider, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:bob@example.com', callId: 't2', cseq: 1, extra: [pai] }),
      fe.port,
      HOST,
    );
    expect((await outsider.next()).status).toBe(401);
  });
});

describe('a credentials store that does not answer', () => {
  it('is an outage, not a wrong password: 500 with Retry-After, never 403', async () => {
    const down = new SipCredentials('postgres://postgres@127.0.0.1:1/nowhere', 'nowhere');
    const outage = await SipFrontEnd.start({
      host: HOST,
      port: 0,
      resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
      sink: { record: async () => {} },
      auth: new RequestAuthenticator({ mode: 'digest', realm: REALM, nonces, credentials: down, trustedProxies: new TrustedProxies([]) }),
    });
    try {
      const c = await client();
      c.socket.send(request(c, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:alice@example.com', callId: 'o1', cseq: 1 }), outage.port, HOST);
      const challenge = await c.next();
      expect(challenge.status).toBe(401); // challenging needs no database
      const auth = authorization(challenge.headers.getAll('www-authenticate')[0]!, {
        username: 'alice',
        password: 'wonderland',
        method: 'SUBSCRIBE',
        uri: 'sip:carol@example.com',
      });
      c.socket.send(
        request(c, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:alice@example.com', callId: 'o1', cseq: 2, extra: [auth] }),
        outage.port,
        HOST,
      );
      const answer = await c.next();
      expect([answer.status, answer.headers.get('retry-after')]).toEqual([500, '5']);
      expect(outage.statsLine()).toContain('store outages 1');
    } finally {
      await outage.stop();
      await down.close();
    }
  });
});

// Nonces any front end verifies (no sticky routing) must not let credentials used at one be
// replayed at another: with the shared check every use is recorded in the credentials database.
describe('credentials replayed at another front end', () => {
  for (const replayCheck of ['instance', 'shared'] as const) {
    it(`${replayCheck === 'shared' ? 'are refused with the shared check' : 'pass with the in-memory check alone'}`, async () => {
      const pair = await Promise.all(
        [0, 1].map(() =>
          SipFrontEnd.start({
            host: HOST,
            port: 0,
            resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
            sink: { record: async (_k, v) => void recorded.push(v) },
            auth: new RequestAuthenticator({ mode: 'digest', realm: REALM, nonces, credentials, trustedProxies: new TrustedProxies([]), replayCheck }),
          }),
        ),
      );
      try {
        const [a, b] = pair as [SipFrontEnd, SipFrontEnd];
        const c = await client();
        const sub = (callId: string, cseq: number, extra: string[] = []) =>
          request(c, { method: 'SUBSCRIBE', uri: 'sip:carol@example.com', from: 'sip:alice@example.com', callId, cseq, extra });
        c.socket.send(sub(`x-${replayCheck}`, 1), a.port, HOST);
        const offered = (await c.next()).headers.getAll('www-authenticate')[0]!;
        const auth = authorization(offered, { username: 'alice', password: 'wonderland', method: 'SUBSCRIBE', uri: 'sip:carol@example.com' });
        c.socket.send(sub(`x-${replayCheck}`, 2, [auth]), a.port, HOST);
        expect((await c.next()).status).toBe(200);
        // The same Authorization in a new request, to the other front end.
        c.socket.send(sub(`y-${replayCheck}`, 1, [auth]), b.port, HOST);
        expect((await c.next()).status).toBe(replayCheck === 'shared' ? 403 : 200);
      } finally {
        for (const fe of pair) await fe.stop();
      }
    });
  }
});

// RFC 3325's trust domain by certificate: an S-CSCF reaching us over TLS from any address is
// trusted for the name its client certificate (verified against our client CA) certifies.
describe('P-Asserted-Identity from a proxy trusted by its TLS client certificate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'it-sip-auth-tls-'));
  let tlsFe: SipFrontEnd;
  let ca: Buffer;
  const pems: Record<string, { cert: Buffer; key: Buffer }> = {};
  const sockets: TLSSocket[] = [];

  beforeAll(async () => {
    const authority = await createTestCertificateAuthority(dir);
    ca = readFileSync(authority.caFile);
    for (const [name, names] of [
      ['front-end', [HOST]],
      ['scscf', ['scscf.ims.example.net']],
      ['other', ['other.example.net']],
    ] as const) {
      const f = await authority.issue(name, names);
      pems[name] = { cert: readFileSync(f.certFile), key: readFileSync(f.keyFile) };
    }
    tlsFe = await SipFrontEnd.start({
      host: HOST,
      port: 0,
      resolveKey: (u) => presentityKey(u, { countryCode: '351' }),
      sink: { record: async (_k, v) => void recorded.push(v) },
      tls: { ...pems['front-end']!, port: 0, clientCa: ca },
      auth: new RequestAuthenticator({ mode: 'digest', realm: REALM, nonces, credentials, trustedProxies: new TrustedProxies([], ['SCSCF.ims.example.net']) }),
    });
  });

  afterAll(async () => {
    for (const so of sockets) so.destroy();
    await tlsFe?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A SUBSCRIBE with a P-Asserted-Identity over a TLS connection presenting `as`'s certificate: its final answer. */
  async function assertedOverTls(as: string, callId: string): Promise<number | undefined> {
    const socket = tlsConnect({ host: HOST, port: tlsFe.tlsPort, ca, ...pems[as]! });
    sockets.push(socket);
    const framer = new SipStreamFramer({ maxMessageBytes: 65_536 });
    const answers: number[] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const raw of framer.push(chunk)) answers.push(parseSipMessage(raw).status ?? 0);
    });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const local = socket.localPort!;
    socket.write(
      [
        'SUBSCRIBE sip:carol@example.com SIP/2.0',
        `Via: SIP/2.0/TLS ${HOST}:${local};branch=z9hG4bK-${callId}`,
        `From: <sip:x@example.com>;tag=t-${callId}`,
        'To: <sip:carol@example.com>',
        `Call-ID: ${callId}`,
        'CSeq: 1 SUBSCRIBE',
        `Contact: <sip:w@${HOST}:${local};transport=tls>`,
        'Max-Forwards: 70',
        'Event: presence',
        'Expires: 600',
        'P-Asserted-Identity: <sip:erin@example.com>',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    for (let i = 0; i < 200 && !answers.some((a) => a >= 200); i++) await new Promise((r) => setTimeout(r, 25));
    return answers.find((a) => a >= 200);
  }

  it('believes the identity a proxy asserts when its certificate names a trusted proxy, from any address; another CA-signed certificate is challenged', async () => {
    expect(await assertedOverTls('scscf', 'cert-trusted')).toBe(200);
    expect(recorded.at(-1)?.watcherUri).toBe('sip:erin@example.com');
    const before = recorded.length;
    expect(await assertedOverTls('other', 'cert-other')).toBe(401);
    expect(recorded.length).toBe(before);
  });
});
