// The HEP collector with an authentication key (issue 13.5): HEP3's chunk
// 0x000e must carry the configured key (heplify's -hp, Kamailio siptrace's
// hep auth); a packet without it or with another is counted by reason and
// dropped, never published; the right key passes. Real UDP on loopback, the
// real broker and registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sipOverHep } from '../support/sipOverHep.ts';
import { HepCollector } from '../../taps/hep/hepCollector.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { sendDatagrams } from '../support/udpSend.ts';
import { eventually, sleep } from '../support/wait.ts';

function register(n: number): Buffer {
  const aor = `sip:user${n}@example.com`;
  const lines = [
    'REGISTER sip:example.com SIP/2.0',
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-auth-${n}`,
    `From: <${aor}>;tag=f${n}`,
    `To: <${aor}>`,
    `Call-ID: auth-reg-${n}@192.0.2.10`,
    'CSeq: 1 REGISTER',
    'Contact: <sip:u@192.0.2.10:5060>;expires=3600',
    'Expires: 3600',
    'Content-Length: 0',
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
}

function hep(n: number, authKey?: string): Buffer {
  return sipOverHep(register(n), n, authKey !== undefined ? { authKey } : {});
}

describe('HEP collector with an authentication key', () => {
  const s = isolatedSettings('hep-auth', 2);
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  beforeAll(async () => {
    await applyIsolated(s);
    await serde.loadIds();
  });
  afterAll(async () => cleanupIsolated(s));

  it('drops and counts packets without the key, with another one or that show none (undecodable: not dead-lettered); publishes those with it', async () => {
    const c = await HepCollector.start(s, { port: 0, unknown: 'keep', batchSize: 1, authKey: 'right-key' });
    let stopped = false;
    try {
      await sendDatagrams(c.port, hep(1));
      await sendDatagrams(c.port, hep(2, 'wrong-key'));
      await sendDatagrams(c.port, Buffer.from('HEP3 garbage from anyone'));
      await sendDatagrams(c.port, hep(3, 'right-key'));
      await eventually('the keyed packet published', () => c.stats.events === 1 || c.stats.lastError !== null, { timeoutMs: 10_000, intervalMs: 20 });
      await sleep(200);
      const st = await c.stop();
      stopped = true;
      expect(st).toMatchObject({ udpPackets: 4, events: 1, deadLetters: 0, unauthenticated: { missing: 1, wrong: 1, undecodable: 1 }, lastError: null });
    } finally {
      if (!stopped) await c.stop();
    }
  }, 60_000);
});
