// Bad input must not stop the HEP tap (issue 12): a HEP datagram whose SIP
// carries a NUL in a URI is refused by the SIP decoder — counted as
// sip.malformed and dead-lettered with its raw bytes — instead of reaching the
// subscriber directory, where PostgreSQL refused the lookup (SQLSTATE 22021)
// and the failed lookup stopped the collector. The next datagram is decoded
// and published. Real broker, registry and PostgreSQL directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sipOverHep } from '../support/sipOverHep.ts';
import { HepCollector } from '../../taps/hep/hepCollector.ts';
import type { DeadLetter } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { dropSchema, testDatabaseUrl, testSchema } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { sendDatagrams } from '../support/udpSend.ts';
import { eventually } from '../support/wait.ts';

function register(aor: string, n: number): Buffer {
  const lines = [
    `REGISTER sip:example.com SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-nul-${n}`,
    `From: <${aor}>;tag=f${n}`,
    `To: <${aor}>`,
    `Call-ID: nul-reg-${n}@192.0.2.10`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:u@192.0.2.10:5060>;expires=3600`,
    'Expires: 3600',
    'Content-Length: 0',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
}

describe('HEP tap: a NUL in a SIP URI is bad input, not a reason to stop', () => {
  const s = isolatedSettings('hep-nul', 2);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  const schema = testSchema('hep_nul');
  const directory = new SubscriberDirectory(testDatabaseUrl, schema);

  beforeAll(async () => {
    await applyIsolated(s);
    await serde.loadIds();
    await directory.migrate();
  });
  afterAll(async () => {
    await directory.close();
    await dropSchema(schema);
    await cleanupIsolated(s);
  });

  it('dead-letters the datagram as sip.malformed and decodes the next one', async () => {
    const c = await HepCollector.start(s, { port: 0, unknown: 'keep', directory, batchSize: 1 });
    let stopped = false;
    try {
      const bad = sipOverHep(register('sip:al\u0000ice@example.com', 1), 1);
      await sendDatagrams(c.port, bad);
      await eventually('the bad datagram dead-lettered', () => c.stats.deadLetters === 1 || c.stats.lastError !== null, { timeoutMs: 10_000, intervalMs: 20 });
      expect(c.stats.lastError).toBeNull();
      await sendDatagrams(c.port, sipOverHep(register('sip:bob@example.com', 2), 2));
      await eventually('the next datagram published', () => c.stats.events === 1 || c.stats.lastError !== null, { timeoutMs: 10_000, intervalMs: 20 });
      const st = await c.stop();
      stopped = true;
      expect(st).toMatchObject({ udpPackets: 2, events: 1, deadLetters: 1, deadLettersByReason: { 'sip.malformed': 1 }, lastError: null });
      const dead = await readTopic({
        brokers: s.kafka.brokers,
        topic: topicName(s.topics.prefix, 'dead-letters'),
        partitions: 3,
        count: 1,
        timeoutMs: 30_000,
        settleMs: 500,
      });
      const letter = (await serde.decode('dead-letters', dead[0]!.value!)) as DeadLetter;
      expect(letter).toMatchObject({ component: 'tap', layer: 'sip', reason: 'malformed' });
      expect(letter.message).toMatch(/control character 0x00/);
      expect(letter.raw.includes(Buffer.from('sip:al\u0000ice@example.com'))).toBe(true);
    } finally {
      if (!stopped) await c.stop();
    }
  }, 90_000);
});
