// SIP over TLS end to end (issue 13 item 3, RFC 5630), with a throwaway test
// CA made by openssl (infra/local/testCertificates.ts, what `presence stack
// certs` uses). A watcher with a certificate of that CA SUBSCRIBEs over TLS
// (mutual TLS: the front end asks for client certificates) with a sips:
// Contact to the real front end, whose Subscription goes through Kafka to a
// real event manager; the real notify sink sends the NOTIFY over TLS to the
// watcher's own TLS listener, verifying its certificate against the test CA,
// and reports it delivered over tls. A client whose certificate another CA
// signed is refused at the handshake, and a sips: SUBSCRIBE over UDP gets 416.
import { createSocket } from 'node:dgram';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSipMessage, SipStreamFramer, type SipMessage } from '../../protocols/decode/sip/index.ts';
import { buildResponse, serialize } from '../../protocols/sip/message/index.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { createTestCertificateAuthority } from '../../infra/local/testCertificates.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { expectRenewedOnSighup, peerCertificate, withEncryptedKey } from '../support/tlsPeer.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const PARTITIONS = 2;
const base = isolatedSettings('siptls', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, eventManager: { ...base.eventManager, timerClock: 'wall' as const } };
const rulesSchema = `it_tls_rules_${process.pid}`;
const run = `${Date.now().toString(36)}${process.pid}`;
const PRESENTITY = `sips:+351910000077@${HOST};user=phone`;
const CALL_ID = `tls-${run}`;
const dir = mkdtempSync(path.join(tmpdir(), 'it-sip-tls-'));

type Pair = { cert: Buffer; key: Buffer };
let ca: Buffer;
let trustedCa: Awaited<ReturnType<typeof createTestCertificateAuthority>>;
let frontEndCert: Pair;
let watcherCert: Pair;
let sinkCert: Pair;
let rogueCert: Pair;
let em: EventManager | undefined;
let fe: SipFrontEnd | undefined;
let sink: NotifySink | undefined;
let watcherServer: Server | undefined;
const sockets: TLSSocket[] = [];
/** What reached the watcher's TLS listener, and over which connection. */
const notifies: Array<{ message: SipMessage; tlsVersion: string | null }> = [];

/** Reads SIP messages off a TLS socket with the same framer the transport uses. */
function messagesOf(socket: TLSSocket, onMessage: (m: SipMessage) => void): void {
  const framer = new SipStreamFramer({ maxMessageBytes: 65_536 });
  socket.on('data', (chunk: Buffer) => {
    for (const raw of framer.push(chunk)) onMessage(parseSipMessage(raw));
  });
}

function subscribeBytes(contactPort: number, callId: string, requestUri = PRESENTITY, via = `SIP/2.0/TLS ${HOST}:${contactPort}`): string {
  return (
    `SUBSCRIBE ${requestUri} SIP/2.0\r\nVia: ${via};branch=z9hG4bK-${callId}\r\nMax-Forwards: 70\r\n` +
    `From: <sips:watcher@example.com>;tag=tw1\r\nTo: <${requestUri}>\r\nCall-ID: ${callId}\r\nCSeq: 1 SUBSCRIBE\r\n` +
    `Contact: <sips:watcher@${HOST}:${contactPort}>\r\nEvent: presence\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n`
  );
}

beforeAll(async () => {
  const trusted = (trustedCa = await createTestCertificateAuthority(path.join(dir, 'trusted')));
  const rogue = await createTestCertificateAuthority(path.join(dir, 'rogue'), 'rogue CA');
  const load = async (p: Promise<{ certFile: string; keyFile: string }>): Promise<Pair> => {
    const c = await p;
    return { cert: readFileSync(c.certFile), key: readFileSync(c.keyFile) };
  };
  ca = readFileSync(trusted.caFile);
  frontEndCert = await load(trusted.issue('front-end', [HOST]));
  watcherCert = await load(trusted.issue('watcher', [HOST]));
  sinkCert = await load(trusted.issue('sink', [HOST]));
  rogueCert = await load(rogue.issue('rogue', [HOST]));

  await applyIsolated(s);
  await new RecordSerde(s.registry.url, s.topics.prefix).loadIds();
  em = await startEventManager(s, { memberId: `em-tls-${run}`, rulesSchema });
  fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: `fe-tls-${run}`, groups: false, tls: { ...frontEndCert, port: 0, clientCa: ca } });
  sink = await startNotifySink(s, {
    host: HOST,
    port: 0,
    t1Ms: 100,
    retry: { maxAttempts: 3, backoffBaseMs: 200, backoffMaxMs: 500 },
    drainMs: 1000,
    tls: { serverCa: ca, ...sinkCert },
  });
  // The watcher's own TLS listener, where its sips: Contact points: answers each NOTIFY 200 on the same connection.
  watcherServer = createTlsServer({ ...watcherCert, minVersion: 'TLSv1.2' }, (socket) => {
    sockets.push(socket);
    messagesOf(socket, (m) => {
      if (!m.isRequest) return;
      notifies.push({ message: m, tlsVersion: socket.getProtocol() });
      socket.write(serialize(buildResponse(m, 200)));
    });
  });
  await new Promise<void>((resolve) => watcherServer!.listen(0, HOST, resolve));
}, 120_000);

afterAll(async () => {
  for (const so of sockets) so.destroy();
  await new Promise<void>((resolve) => (watcherServer ? watcherServer.close(() => resolve()) : resolve()));
  await sink?.stop();
  await fe?.stop();
  await em?.stop();
  await cleanupIsolated(s);
  await dropSchema(rulesSchema);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('SIP over TLS through the front end, event manager and notify sink', () => {
  it('a watcher SUBSCRIBEs over TLS with a sips: Contact and gets its NOTIFY over TLS, its certificate verified', async () => {
    const contactPort = (watcherServer!.address() as { port: number }).port;
    const socket = tlsConnect({ host: HOST, port: fe!.tlsPort, ca, ...watcherCert });
    sockets.push(socket);
    const answers: SipMessage[] = [];
    messagesOf(socket, (m) => answers.push(m));
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write(subscribeBytes(contactPort, CALL_ID));
    const ok = await eventually(`the 200 over TLS (got ${answers.map((a) => a.status).join(', ')})`, () => answers.find((a) => a.status === 200), {
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    // Answered on the connection the SUBSCRIBE came on; refreshes go to the front end's TLS port as sips:.
    expect(ok.contacts[0]?.uri).toBe(`sips:${HOST}:${fe!.tlsPort}`);
    expect(fe!.transport.stats.tlsConnectionsOpened).toBe(0);

    const notify = await eventually(`a NOTIFY at the watcher's TLS listener`, () => notifies.find((n) => n.message.callId === CALL_ID), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    expect(notify.message.method).toBe('NOTIFY');
    expect(notify.message.requestUri).toBe(`sips:watcher@${HOST}:${contactPort}`);
    expect(notify.message.topVia?.transport).toBe('TLS');
    expect(notify.tlsVersion).toMatch(/^TLSv1\.[23]$/);
    expect(sink!.transport.stats.sent.tls).toBeGreaterThanOrEqual(1);

    const reports = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'delivery-reports'),
      partitions: PARTITIONS,
      count: 1,
      timeoutMs: 30_000,
    });
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    const mine = (await Promise.all(reports.map((r) => serde.decode('delivery-reports', r.value!)))).filter((r) => r.callId === CALL_ID);
    expect(mine.map((r) => [r.outcome, r.transport])).toEqual([['delivered', 'tls']]);
  }, 120_000);

  it('refuses at the handshake a client whose certificate another CA signed: no answer, counted', async () => {
    const before = Object.values(fe!.transport.stats.tlsHandshakeFailures).reduce((a, b) => a + b, 0);
    const socket = tlsConnect({ host: HOST, port: fe!.tlsPort, ca, ...rogueCert });
    sockets.push(socket);
    const answers: SipMessage[] = [];
    messagesOf(socket, (m) => answers.push(m));
    socket.on('error', () => {});
    socket.on('secureConnect', () => socket.write(subscribeBytes(5999, `rogue-${run}`)));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await eventually('the refused handshake counted', () => Object.values(fe!.transport.stats.tlsHandshakeFailures).reduce((a, b) => a + b, 0) > before);
    expect(answers).toEqual([]);
    expect(fe!.stats.requests['SUBSCRIBE']).toBe(1); // only the trusted watcher's
  });

  it('takes a renewed certificate from its files on SIGHUP, for new handshakes, without a restart (keys encrypted, the passphrase a setting)', async () => {
    // Keys kept encrypted at rest, as operators do: decrypted at start and at the reload with the passphrase setting.
    const [first, renewed] = [
      withEncryptedKey(await trustedCa.issue('fe-files', [HOST]), 'fe key secret'),
      withEncryptedKey(await trustedCa.issue('fe-renewed', [HOST, 'localhost']), 'fe key secret'),
    ];
    const live = { certFile: path.join(dir, 'fe-live.crt'), keyFile: path.join(dir, 'fe-live.key') };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    // As an operator configures it: the files in the settings, looked at only on SIGHUP here.
    const fromFiles = {
      ...s,
      tls: { reloadIntervalS: 0 },
      frontEnd: {
        ...s.frontEnd,
        tls: { port: 0, certFile: live.certFile, keyFile: live.keyFile, keyPassphrase: 'fe key secret', clientCaFile: trustedCa.caFile },
      },
    };
    const fe2 = await startSipFrontEnd(fromFiles, { host: HOST, port: 0, frontEndId: `fe-tls-files-${run}`, groups: false });
    const served = async () => (await peerCertificate(fe2.tlsPort, { ca, ...watcherCert })).subjectaltname ?? '';
    try {
      await expectRenewedOnSighup(live, renewed, served);
    } finally {
      await fe2.stop();
    }
  });

  it('answers a sips: SUBSCRIBE that arrived over UDP with 416 Unsupported URI Scheme, recording nothing', async () => {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, HOST, resolve));
    const answers: SipMessage[] = [];
    udp.on('message', (b) => answers.push(parseSipMessage(b)));
    const port = udp.address().port;
    udp.send(subscribeBytes(port, `udp-${run}`, PRESENTITY, `SIP/2.0/UDP ${HOST}:${port}`), fe!.port, HOST);
    const answer = await eventually('an answer over UDP', () => answers[0], { timeoutMs: 5000, intervalMs: 20 });
    udp.close();
    expect(answer.status).toBe(416);
    expect(answer.reason).toMatch(/^Unsupported URI Scheme/);
    expect(fe!.stats.recorded).toBe(1); // the TLS watcher's only
  });
});
