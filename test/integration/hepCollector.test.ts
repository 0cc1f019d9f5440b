// The live HEP collector against the real broker and registry: HEP3 SIP over
// UDP and over TCP (packets coalesced in one write, a packet split across
// writes) becomes signaling events keyed by subscriber; a malformed HEP
// packet, bad SIP inside HEP and a non-HEP TCP stream become dead letters
// with their raw bytes, and the other connections go on; so does half a
// packet left by an agent that disconnects. A second part uses
// a publisher that stalls, to show TCP pausing and UDP drops being counted.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { encodeHep3 } from '../../protocols/decode/hep/index.ts';
import { HEP_PROTO } from '../../protocols/decode/hep/chunkTypes.ts';
import { HepCollector, type TapPublisher } from '../../taps/hep/hepCollector.ts';
import type { DeadLetter, SignalingEvent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { sendDatagrams } from '../support/udpSend.ts';
import { eventually, sleep } from '../support/wait.ts';

const crlf = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');

function register(o: { aor: string; callId: string; contact: string; branch: string }): Buffer {
  return crlf([
    `REGISTER ${o.aor.startsWith('tel:') ? 'sip:ims.example.net' : `sip:${o.aor.split('@')[1]}`} SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=${o.branch}`,
    'Max-Forwards: 70',
    `From: <${o.aor}>;tag=from-${o.branch}`,
    `To: <${o.aor}>`,
    `Call-ID: ${o.callId}`,
    'CSeq: 1 REGISTER',
    `Contact: <${o.contact}>;expires=3600`,
    'Expires: 3600',
    'Content-Length: 0',
  ]);
}

function ok(o: { aor: string; callId: string; contact: string; branch: string }): Buffer {
  return crlf([
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=${o.branch};received=192.0.2.10`,
    `From: <${o.aor}>;tag=from-${o.branch}`,
    `To: <${o.aor}>;tag=registrar-1`,
    `Call-ID: ${o.callId}`,
    'CSeq: 1 REGISTER',
    `Contact: <${o.contact}>;expires=3600`,
    'Content-Length: 0',
  ]);
}

const T0 = 1_764_000_000_000_000_000n; // 2025-11-24, ns

function hep(payload: Buffer, captureId: number, i: number, request = true): Buffer {
  return encodeHep3({
    ipFamily: 4,
    ipProtocol: 17,
    src: request ? '192.0.2.10' : '198.51.100.5',
    dst: request ? '198.51.100.5' : '192.0.2.10',
    srcPort: 5060,
    dstPort: 5060,
    timeNs: T0 + BigInt(i) * 1_000_000n,
    protoType: HEP_PROTO.SIP,
    captureId,
    payload,
  });
}

const tel = { aor: 'tel:+351912345678', callId: 'reg-tel-1@192.0.2.10', contact: 'sip:+351912345678@192.0.2.10:5060', branch: 'z9hG4bK-tel-1' };
const alice = { aor: 'sip:alice@Example.COM', callId: 'reg-alice-1@192.0.2.11', contact: 'sip:alice@192.0.2.11:5062;transport=tcp', branch: 'z9hG4bK-alice-1' };
const bob = { aor: 'sip:bob@example.com', callId: 'reg-bob-1@192.0.2.12', contact: 'sip:bob@192.0.2.12:5060', branch: 'z9hG4bK-bob-1' };

// HEP3 header says 40 bytes; its one chunk claims 200: hep.malformed.
const malformedHep = Buffer.concat([Buffer.from('HEP3', 'latin1'), Buffer.from([0, 40]), Buffer.from([0, 0, 0, 1, 0, 200]), Buffer.alloc(28, 0xab)]);
const badSip = hep(Buffer.from('REGISTER this is not SIP at all\r\n\r\n'), 101, 9);
const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: collector\r\n\r\n');

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port }, () => resolve(c));
    c.once('error', reject);
  });
}

describe('HEP collector → Kafka (real broker and registry)', () => {
  const s = isolatedSettings('hep', 4);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);

  beforeAll(async () => {
    await applyIsolated(s);
    await serde.loadIds();
  });
  afterAll(async () => {
    await cleanupIsolated(s);
  });

  it('publishes SIP from HEP over UDP and TCP as events, and bad input as dead letters', async () => {
    const c = await HepCollector.start(s, { port: 0, unknown: 'keep', firstPacket: 1 });
    let stopped = false;
    try {
      expect(c.host).toBe('127.0.0.1');
      expect(c.port).toBeGreaterThan(0);

      // UDP: a registration of a tel: identity, a malformed HEP packet, bad SIP inside good HEP.
      await sendDatagrams(c.port, [hep(register(tel), 101, 1), hep(ok(tel), 101, 2, false), malformedHep, badSip]);
      await eventually('4 UDP packets', () => c.stats.udpPackets === 4, { timeoutMs: 10_000, intervalMs: 20 });

      // TCP: a healthy agent connection, and one that sends something else.
      const agent = await connect(c.port);
      const intruder = await connect(c.port);
      const intruderClosed = new Promise<void>((r) => intruder.once('close', () => r()));
      intruder.on('error', () => {});
      intruder.write(garbage);
      await intruderClosed;
      expect(c.stats.tcpClosedForGarbage).toBe(1);

      // Two packets in one write, then one packet split across two writes.
      agent.write(Buffer.concat([hep(register(alice), 202, 3), hep(ok(alice), 202, 4, false)]));
      const split = hep(register(bob), 202, 5);
      agent.write(split.subarray(0, 17));
      await sleep(100); // separate reads on the collector side
      agent.write(split.subarray(17));
      await eventually('3 TCP packets', () => c.stats.tcpPackets === 3, { timeoutMs: 10_000, intervalMs: 20 });
      agent.end();

      // An agent that goes away in the middle of a packet: its half is kept.
      const quitter = await connect(c.port);
      const half = hep(register(bob), 202, 6).subarray(0, 60);
      quitter.end(half);
      await eventually('the half packet as a dead letter', () => c.stats.deadLettersByReason['hep.truncated'] === 1, { timeoutMs: 10_000, intervalMs: 20 });

      const st = await c.stop();
      stopped = true;
      expect(st.packets).toBe(7);
      expect(st.signals).toBe(5);
      expect(st.events).toBe(5);
      expect(st.deadLetters).toBe(4);
      expect(st.deadLettersByReason).toEqual({ 'hep.malformed': 1, 'sip.malformed': 1, 'tcp.garbage': 1, 'hep.truncated': 1 });
      expect(st.tcpConnections).toBe(3);
      expect(st.lastError).toBeNull();
    } finally {
      if (!stopped) await c.stop();
    }

    const records = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 4,
      count: 5,
      timeoutMs: 30_000,
      settleMs: 1000,
    });
    expect(records).toHaveLength(5);
    const events = await Promise.all(
      records.map(async (m) => ({ key: m.key!.toString(), e: (await serde.decode('signaling-events', m.value!)) as SignalingEvent })),
    );
    for (const { key, e } of events) {
      expect(key).toBe(e.subscriber);
      expect(e.protocol).toBe('sip');
      expect(e.source.tap).toBe('hep');
    }
    const find = (callId: string, message: string) => {
      const hit = events.filter(({ e }) => e.sip?.callId === callId && e.message === message);
      expect(hit, `${message} of ${callId}`).toHaveLength(1);
      return hit[0]!.e;
    };

    const telReg = find(tel.callId, 'REGISTER');
    expect(telReg.subscriber).toBe('msisdn:+351912345678');
    expect(telReg.identities.msisdn).toBe('+351912345678');
    expect(telReg.kind).toBe('request');
    expect(telReg.source.capture).toBe('hep:101');
    expect(telReg.time).toBe(Number(T0 / 1_000_000n) + 1);
    expect(telReg.sip).toMatchObject({ method: 'REGISTER', cseq: 1, status: null, to: 'tel:+351912345678', expires: 3600 });
    expect(telReg.sip!.contacts).toEqual(['sip:+351912345678@192.0.2.10:5060;expires=3600']);

    const telOk = find(tel.callId, '200');
    expect(telOk.subscriber).toBe('msisdn:+351912345678');
    expect(telOk.kind).toBe('response');
    expect(telOk.sip).toMatchObject({ method: 'REGISTER', status: 200 });

    const aliceReg = find(alice.callId, 'REGISTER');
    expect(aliceReg.subscriber).toBe('aor:sip:alice@example.com'); // host folded to lower case
    expect(aliceReg.source.capture).toBe('hep:202');
    expect(find(alice.callId, '200').subscriber).toBe('aor:sip:alice@example.com');
    const bobReg = find(bob.callId, 'REGISTER');
    expect(bobReg.subscriber).toBe('aor:sip:bob@example.com');
    expect(bobReg.sip!.contacts).toEqual(['sip:bob@192.0.2.12:5060;expires=3600']);

    // Ids are unique (packet number + message index), so none collapses downstream.
    expect(new Set(events.map(({ e }) => e.eventId)).size).toBe(5);
    // Same subscriber, same partition, in arrival order.
    const telRecords = records.filter((m) => m.key!.toString() === 'msisdn:+351912345678');
    expect(new Set(telRecords.map((m) => m.partition)).size).toBe(1);
    expect(telRecords.map((m) => m.offset)).toEqual([...telRecords.map((m) => m.offset)].sort((a, b) => a - b));

    const dead = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'dead-letters'),
      partitions: 3,
      count: 4,
      timeoutMs: 30_000,
      settleMs: 1000,
    });
    expect(dead).toHaveLength(4);
    const letters = await Promise.all(dead.map(async (m) => (await serde.decode('dead-letters', m.value!)) as DeadLetter));
    const byReason = new Map(letters.map((d) => [`${d.layer}.${d.reason}`, d]));
    const hepBad = byReason.get('hep.malformed')!;
    expect(hepBad.component).toBe('tap');
    expect(Buffer.compare(hepBad.raw, malformedHep)).toBe(0);
    expect(hepBad.message).toMatch(/chunk 0x1 length 200/);
    expect(hepBad.context).toMatchObject({ tap: 'hep', transport: 'udp' });
    const sipBad = byReason.get('sip.malformed')!;
    expect(sipBad.raw.toString()).toBe('REGISTER this is not SIP at all\r\n\r\n');
    expect(sipBad.context).toMatchObject({ tap: 'hep', capture: 'hep:101' });
    const tcpBad = byReason.get('tcp.garbage')!;
    expect(Buffer.compare(tcpBad.raw, garbage)).toBe(0);
    expect(Buffer.compare(byReason.get('hep.truncated')!.raw, hep(register(bob), 202, 6).subarray(0, 60))).toBe(0);
  });
});

// A publisher whose first publish waits until released: the in-flight window is full.
class StallingPublisher implements TapPublisher {
  readonly stats = { events: 0, deadLetters: 0 };
  readonly events: SignalingEvent[] = [];
  private gate: Promise<void>;
  release!: () => void;
  constructor() {
    this.gate = new Promise((r) => (this.release = r));
  }
  async connect(): Promise<void> {}
  async publish(e: SignalingEvent): Promise<void> {
    await this.gate;
    this.stats.events++;
    this.events.push(e);
  }
  async deadLetter(): Promise<void> {
    this.stats.deadLetters++;
  }
  async close(): Promise<void> {}
}

describe('HEP collector back-pressure', () => {
  it('pauses TCP reads and counts UDP drops while the publisher is full, then catches up', async () => {
    const pub = new StallingPublisher();
    const c = await HepCollector.start(loadSettings(), { port: 0, unknown: 'keep', publisher: pub, flushMs: 5, firstPacket: 1 });
    try {
      await sendDatagrams(c.port, [hep(register(tel), 101, 1)]);
      await eventually('the first publish to stall', () => c.stats.signals === 1, { timeoutMs: 10_000, intervalMs: 20 });
      await sleep(100); // the flush timer fires and the publish blocks
      await sendDatagrams(c.port, [hep(ok(tel), 101, 2, false), hep(ok(tel), 101, 3, false)]);
      await eventually('UDP drops', () => (c.stats.udpDropped['window-full'] ?? 0) === 2, { timeoutMs: 10_000, intervalMs: 20 });

      const agent = await connect(c.port);
      agent.write(hep(register(alice), 202, 4));
      await eventually('a TCP pause', () => c.stats.tcpPauses === 1, { timeoutMs: 10_000, intervalMs: 20 });
      // Paused: a later write is not read while the publisher is stuck.
      agent.write(hep(register(bob), 202, 5));
      await sleep(200);
      expect(c.stats.tcpPackets).toBe(1);

      pub.release();
      await eventually('the paused connection to be read again', () => c.stats.tcpPackets === 2, { timeoutMs: 10_000, intervalMs: 20 });
      agent.end();
      const st = await c.stop();
      expect(st.udpPackets).toBe(1);
      expect(st.udpDropped).toEqual({ 'window-full': 2 });
      expect(pub.events.map((e) => e.subscriber)).toEqual(['msisdn:+351912345678', 'aor:sip:alice@example.com', 'aor:sip:bob@example.com']);
    } finally {
      pub.release();
      await c.stop();
    }
  });
});
