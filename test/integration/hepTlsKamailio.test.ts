// HEP over TLS from a real capture agent (issue 13 item 5): Kamailio 5.6's
// siptrace module (tools/kamailio/siptrace.cfg) mirrors the requests it
// receives as HEP3 with an authentication key over TLS to our collector, both
// sides with certificates of a throwaway CA (infra/local/testCertificates.ts):
// Kamailio verifies the collector, the collector requires Kamailio's
// certificate (mutual TLS). Its packets are decoded and published under each
// REGISTER's subscriber on the real broker and registry. A collector expecting
// another key counts Kamailio's packets and drops them. Skips, saying why,
// without Kamailio's tls and siptrace modules (Debian: kamailio-tls-modules).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificateAuthority, type IssuedCertificate } from '../../infra/local/testCertificates.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { HepCollector } from '../../taps/hep/hepCollector.ts';
import { kamailioHepTlsAgentMissing, startKamailioHepTlsAgent, type KamailioPeer } from '../../tools/kamailio/kamailio.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { freeSipPort, freeUdpPort } from '../support/ports.ts';
import { openSipUdpClient, type SipUdpClient } from '../support/sipUdpClient.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const KEY = 'kamailio-hep-key';
const MISSING = kamailioHepTlsAgentMissing();
if (MISSING) console.warn(`HEP over TLS from Kamailio skipped: ${MISSING}`);

const dir = mkdtempSync(path.join(tmpdir(), 'it-hep-tls-kamailio-'));
const s = isolatedSettings('hep-tls-kamailio', 2);
const run = `${Date.now().toString(36)}${process.pid}`;
let ca: Buffer;
let collectorFiles: IssuedCertificate;
let agentFiles: IssuedCertificate;
let caFile: string;
let ua: SipUdpClient | undefined;

const pem = (f: IssuedCertificate) => ({ cert: readFileSync(f.certFile), key: readFileSync(f.keyFile) });

/** A collector on HEP over TLS requiring agent certificates of the test CA, and Kamailio sending to it. */
async function collectorWithAgent(collectorKey: string, name: string): Promise<{ collector: HepCollector; agent: KamailioPeer }> {
  const collector = await HepCollector.start(s, {
    port: 0,
    unknown: 'keep',
    batchSize: 1,
    authKey: collectorKey,
    tls: { port: 0, ...pem(collectorFiles), clientCa: ca, handshakeTimeoutMs: 5000 },
  });
  const agent = await startKamailioHepTlsAgent({
    host: HOST,
    port: await freeUdpPort(HOST),
    tlsPort: await freeSipPort(HOST),
    logFile: path.join(dir, `${name}.log`),
    collectorPort: collector.tlsPort,
    authKey: KEY,
    ...agentFiles,
    caFile,
  }).catch(async (err: unknown) => {
    await collector.stop();
    throw err;
  });
  return { collector, agent };
}

/** REGISTERs to Kamailio over UDP, each answered 200 (so each was received, and traced). */
async function registerAt(agent: KamailioPeer, users: string[]): Promise<void> {
  for (const user of users) {
    const aor = `sip:${user}@example.com`;
    ua!.socket.send(
      `REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:${ua!.port};branch=z9hG4bK-${user}\r\nMax-Forwards: 70\r\n` +
        `From: <${aor}>;tag=f-${user}\r\nTo: <${aor}>\r\nCall-ID: ${user}@${HOST}\r\nCSeq: 1 REGISTER\r\n` +
        `Contact: <sip:${user}@${HOST}:${ua!.port}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n`,
      agent.port,
      HOST,
    );
    expect((await ua!.next(10_000)).status).toBe(200);
  }
}

describe.skipIf(MISSING !== undefined)("HEP over TLS from Kamailio's siptrace", () => {
  beforeAll(async () => {
    const authority = await createTestCertificateAuthority(path.join(dir, 'ca'));
    caFile = authority.caFile;
    ca = readFileSync(caFile);
    collectorFiles = await authority.issue('collector', [HOST]);
    agentFiles = await authority.issue('kamailio', [HOST]);
    await applyIsolated(s);
    ua = await openSipUdpClient({ host: HOST });
  }, 60_000);

  afterAll(async () => {
    await ua?.close();
    await cleanupIsolated(s);
    rmSync(dir, { recursive: true, force: true });
  });

  it("decodes and publishes what Kamailio mirrors over mutual TLS, under each REGISTER's subscriber, counted by agent", async () => {
    const { collector, agent } = await collectorWithAgent(KEY, 'kamailio');
    try {
      const users = [1, 2, 3].map((n) => `kam${n}-${run}`);
      await registerAt(agent, users);
      await eventually(
        () => `three events (stats ${JSON.stringify(collector.stats)}; Kamailio's log ${agent.logFile})`,
        () => collector.stats.events >= 3 || collector.stats.lastError !== null,
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      // Kamailio also traced the OPTIONS its start-up probe sent (no subscriber in it: no event).
      const st = collector.stats;
      expect(st.tlsPackets).toBeGreaterThanOrEqual(3);
      expect(st.packetsByAgent).toEqual({ '2001': st.tlsPackets });
      expect(st).toMatchObject({
        tlsConnections: 1,
        udpPackets: 0,
        tcpPackets: 0,
        events: 3,
        deadLetters: 0,
        unauthenticated: {},
        tlsRefused: {},
        lastError: null,
      });

      const serde = new RecordSerde(s.registry.url, s.topics.prefix);
      await serde.loadIds();
      const records = await readTopic({
        brokers: s.kafka.brokers,
        topic: topicName(s.topics.prefix, 'signaling-events'),
        partitions: 2,
        count: 3,
        timeoutMs: 30_000,
      });
      const events = await Promise.all(records.map((r) => serde.decode('signaling-events', r.value!)));
      expect(events.map((e) => e.subscriber).sort()).toEqual(users.map((u) => `aor:sip:${u}@example.com`).sort());
      expect(events.every((e) => e.source.tap === 'hep' && e.message === 'REGISTER')).toBe(true);
    } finally {
      await agent.stop();
      await collector.stop();
    }
  }, 60_000);

  it('counts and drops the packets of an agent whose HEP key is not the configured one', async () => {
    const { collector, agent } = await collectorWithAgent('another-key', 'kamailio-wrong-key');
    try {
      await registerAt(agent, [`wrongkey-${run}`]);
      await eventually(
        () => `the packet counted (stats ${JSON.stringify(collector.stats)})`,
        () => (collector.stats.unauthenticated['wrong'] ?? 0) >= 2, // the start-up probe's OPTIONS and the REGISTER
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      const st = collector.stats;
      expect(st.tlsPackets).toBeGreaterThanOrEqual(2);
      expect(st).toMatchObject({ tlsConnections: 1, events: 0, deadLetters: 0, unauthenticated: { wrong: st.tlsPackets } });
    } finally {
      await agent.stop();
      await collector.stop();
    }
  }, 60_000);
});
