// HEP over TLS (issue 13 item 5): the HEP collector's optional TLS listener,
// with a throwaway CA made by openssl (infra/local/testCertificates.ts, what
// `presence stack certs` uses) and agent certificates required (mutual TLS).
// An agent with a certificate of that CA sends HEP3 packets back to back, one
// of them split across two TLS records, and the collector decodes and
// publishes them (real broker and registry); a packet with a wrong HEP
// authentication key is counted and dropped. Agents without a certificate, with
// one another CA signed, or speaking plain TCP to the TLS port are refused at
// the handshake and counted by reason; none of their bytes reach the pipeline.
// Without a client CA any agent is taken, and malformed streams are handled as
// on TCP (tcp.garbage, hep.truncated dead letters); a silent connection is
// closed at the handshake timeout, counted. A certificate renewed in its files is
// taken on SIGHUP without a restart.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hepTapTls } from '../../config/hepTlsFiles.ts';
import { createTestCertificateAuthority } from '../../infra/local/testCertificates.ts';
import { HepCollector } from '../../taps/hep/hepCollector.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { sipOverHep } from '../support/sipOverHep.ts';
import { expectRenewedOnSighup, peerCertificate, withEncryptedKey } from '../support/tlsPeer.ts';
import { eventually, sleep } from '../support/wait.ts';

const HOST = '127.0.0.1';
const KEY = 'right-key';
const dir = mkdtempSync(path.join(tmpdir(), 'it-hep-tls-'));

function register(n: number): Buffer {
  const aor = `sip:tls${n}@example.com`;
  const lines = [
    'REGISTER sip:example.com SIP/2.0',
    `Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK-tls-${n}`,
    `From: <${aor}>;tag=f${n}`,
    `To: <${aor}>`,
    `Call-ID: tls-reg-${n}@192.0.2.10`,
    'CSeq: 1 REGISTER',
    'Contact: <sip:u@192.0.2.10:5061;transport=tls>;expires=3600',
    'Expires: 3600',
    'Content-Length: 0',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
}

type Pair = { cert: Buffer; key: Buffer };
let authority: Awaited<ReturnType<typeof createTestCertificateAuthority>>;
let ca: Buffer;
let serverCert: Pair;
let agentCert: Pair;
let rogueCert: Pair;
let c: HepCollector | undefined;
const sockets: net.Socket[] = [];

/** A TLS agent connection; resolves once the client side finished its handshake (TLS 1.3: before the server checked our certificate). */
function agent(client?: Pair): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: HOST, port: c!.tlsPort, ca, servername: 'localhost', ...(client ?? {}) }, () => resolve(sock));
    sockets.push(sock);
    sock.on('error', reject);
  });
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HEP collector over TLS with agent certificates required', () => {
  const s = isolatedSettings('hep-tls', 2);

  beforeAll(async () => {
    authority = await createTestCertificateAuthority(path.join(dir, 'ca'));
    const rogue = await createTestCertificateAuthority(path.join(dir, 'rogue'), 'rogue CA');
    const read = async (a: typeof authority, name: string, names: string[]): Promise<Pair> => {
      const f = await a.issue(name, names);
      return { cert: readFileSync(f.certFile), key: readFileSync(f.keyFile) };
    };
    ca = readFileSync(authority.caFile);
    serverCert = await read(authority, 'collector', ['localhost', HOST]);
    agentCert = await read(authority, 'agent', ['agent.example.net']);
    rogueCert = await read(rogue, 'rogue-agent', ['agent.example.net']);
    await applyIsolated(s);
    c = await HepCollector.start(s, {
      port: 0,
      unknown: 'keep',
      batchSize: 1,
      authKey: KEY,
      tls: { port: 0, ...serverCert, clientCa: ca, handshakeTimeoutMs: 2000 },
    });
  }, 60_000);

  afterAll(async () => {
    for (const sock of sockets) sock.destroy();
    await c?.stop();
    await cleanupIsolated(s);
  });

  it('takes a renewed certificate from its files on SIGHUP, for new handshakes, without a restart (the files read as `tap hep` reads them, keys encrypted)', async () => {
    // Keys kept encrypted at rest: decrypted at start and at the reload with the passphrase setting.
    const [first, renewed] = [
      withEncryptedKey(await authority.issue('collector-files', [HOST]), 'hep key secret'),
      withEncryptedKey(await authority.issue('collector-renewed', [HOST, 'localhost']), 'hep key secret'),
    ];
    const live = { certFile: path.join(dir, 'collector-live.crt'), keyFile: path.join(dir, 'collector-live.key') };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    // As an operator configures it: the files in the settings, looked at only on SIGHUP here.
    const fromFiles = {
      ...s,
      tls: { reloadIntervalS: 0 },
      hep: { ...s.hep, tls: { port: 0, ...live, keyPassphrase: 'hep key secret', clientCaFile: authority.caFile } },
    };
    const c2 = await HepCollector.start(fromFiles, { port: 0, unknown: 'keep', batchSize: 1, tls: { ...hepTapTls(fromFiles)!, handshakeTimeoutMs: 2000 } });
    const served = async () => (await peerCertificate(c2.tlsPort, { ca, ...agentCert })).subjectaltname ?? '';
    try {
      await expectRenewedOnSighup(live, renewed, served);
    } finally {
      await c2.stop();
    }
  });

  it('listens for TLS on a port of its own beside UDP/TCP', () => {
    expect(c!.tlsPort).toBeGreaterThan(0);
    expect(c!.tlsPort).not.toBe(c!.port);
  });

  it('decodes HEP3 packets sent back to back, one split across two TLS records; a wrong key is counted and dropped', async () => {
    const sock = await agent(agentCert);
    sock.setNoDelay(true);
    // Two whole packets in one record, then one packet cut in the middle of its chunks over two records.
    sock.write(Buffer.concat([sipOverHep(register(1), 1, { authKey: KEY }), sipOverHep(register(2), 2, { authKey: KEY })]));
    const split = sipOverHep(register(3), 3, { authKey: KEY });
    sock.write(split.subarray(0, 20));
    await sleep(100);
    sock.write(split.subarray(20));
    sock.write(sipOverHep(register(4), 4, { authKey: 'wrong-key' }));
    await eventually('three packets published', () => c!.stats.events >= 3 || c!.stats.lastError !== null, { timeoutMs: 15_000, intervalMs: 20 });
    await eventually('the wrong key counted', () => (c!.stats.unauthenticated['wrong'] ?? 0) >= 1, { timeoutMs: 5000, intervalMs: 20 });
    const st = c!.stats;
    expect(st).toMatchObject({ tlsConnections: 1, tlsPackets: 4, tcpPackets: 0, events: 3, deadLetters: 0, tcpClosedForGarbage: 0, lastError: null });
    expect(st.unauthenticated).toEqual({ wrong: 1 });
    expect(st.tlsRefused).toEqual({});
    sock.end();
  }, 30_000);

  it('refuses an agent without a certificate, and one whose certificate another CA signed, counting each', async () => {
    const before = c!.stats;
    // TLS 1.3: the client may think it is connected; the server refuses once it sees no or a bad certificate.
    for (const client of [undefined, rogueCert]) {
      const sock = await agent(client).catch(() => undefined);
      sock?.on('error', () => {});
      sock?.write(sipOverHep(register(9), 9, { authKey: KEY }));
    }
    const refused = () => Object.values(c!.stats.tlsRefused).reduce((x, y) => x + y, 0);
    await eventually('both refused', () => refused() >= 2, { timeoutMs: 5000, intervalMs: 20 });
    await sleep(200);
    const st = c!.stats;
    expect(st.tlsRefused).toEqual({ 'no-client-certificate': 1, 'untrusted-client-certificate': 1 });
    expect(st.tlsConnections).toBe(before.tlsConnections);
    expect(st.tlsPackets).toBe(before.tlsPackets);
    expect(st.events).toBe(before.events);
  }, 30_000);

  it('refuses and counts a plain-TCP agent sending HEP to the TLS port, without dead-lettering its bytes', async () => {
    const before = c!.stats;
    const sock = net.connect({ host: HOST, port: c!.tlsPort });
    sockets.push(sock);
    sock.on('error', () => {});
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    sock.write(sipOverHep(register(10), 10, { authKey: KEY }));
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    await eventually('refused as not TLS', () => (c!.stats.tlsRefused['not-tls'] ?? 0) === 1, { timeoutMs: 5000, intervalMs: 20 });
    await closed;
    const st = c!.stats;
    expect(st).toMatchObject({ tlsPackets: before.tlsPackets, tcpPackets: 0, deadLetters: 0, events: before.events, lastError: null });
  }, 30_000);
});

describe('HEP collector over TLS without agent certificates', () => {
  const s = isolatedSettings('hep-tls-open', 2);
  let open: HepCollector | undefined;
  let openCa: Buffer;
  const held: net.Socket[] = [];

  beforeAll(async () => {
    // Its own CA, so this describe also runs alone (-t).
    const authority = await createTestCertificateAuthority(path.join(dir, 'open-ca'));
    const f = await authority.issue('collector', ['localhost', HOST]);
    await applyIsolated(s);
    open = await HepCollector.start(s, {
      port: 0,
      unknown: 'keep',
      batchSize: 1,
      tls: { port: 0, cert: readFileSync(f.certFile), key: readFileSync(f.keyFile), handshakeTimeoutMs: 500 },
    });
    openCa = readFileSync(authority.caFile);
  }, 60_000);

  afterAll(async () => {
    for (const sock of held) sock.destroy();
    await open?.stop();
    await cleanupIsolated(s);
  });

  it('takes an agent without a certificate; a stream that is not HEP3 framing is dead-lettered and closed, as on TCP; a packet cut by the close is dead-lettered as truncated', async () => {
    const connectOpen = () =>
      new Promise<TLSSocket>((resolve, reject) => {
        const sock = tlsConnect({ host: HOST, port: open!.tlsPort, ca: openCa, servername: 'localhost' }, () => resolve(sock));
        held.push(sock);
        sock.on('error', reject);
      });
    const good = await connectOpen();
    const whole = sipOverHep(register(20), 20);
    good.write(Buffer.concat([whole, whole.subarray(0, 30)]));
    await eventually('the whole packet published', () => open!.stats.events >= 1 || open!.stats.lastError !== null, { timeoutMs: 15_000, intervalMs: 20 });
    good.end();
    const bad = await connectOpen();
    bad.on('error', () => {});
    bad.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await eventually('both dead-lettered', () => open!.stats.deadLetters >= 2 || open!.stats.lastError !== null, { timeoutMs: 15_000, intervalMs: 20 });
    const st = open!.stats;
    expect(st).toMatchObject({ tlsConnections: 2, tlsPackets: 1, events: 1, tcpClosedForGarbage: 1, lastError: null });
    expect(st.deadLettersByReason).toEqual({ 'hep.truncated': 1, 'tcp.garbage': 1 });
  }, 30_000);

  it('closes and counts a connection that never finishes its handshake', async () => {
    const sock = net.connect({ host: HOST, port: open!.tlsPort });
    held.push(sock);
    sock.on('error', () => {});
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    await closed;
    expect(open!.stats.tlsRefused).toEqual({ timeout: 1 });
  }, 10_000);
});
