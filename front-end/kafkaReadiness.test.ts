import { describe, expect, it } from 'vitest';
import { KafkaUnavailableError } from '../kafka/recordProducer.ts';
import { eventually } from '../test/support/wait.ts';
import { KafkaReadiness } from './kafkaReadiness.ts';

describe('SIP front end readiness', () => {
  it('not ready until connected; a record Kafka did not take makes it not ready until the brokers answer the probe again', async () => {
    let brokersAnswer = true;
    const r = new KafkaReadiness('127.0.0.1:9', 20, async () => brokersAnswer);
    try {
      expect(r.notReadyReason).toMatch(/not connected/);
      r.connectFailed('timed out');
      expect(r.notReadyReason).toBe('cannot connect to Kafka at 127.0.0.1:9: timed out');
      r.connected();
      expect(r.notReadyReason).toBeUndefined();

      // Not Kafka's fault (e.g. a schema error): still ready.
      r.recordFailed(new Error('bad record'));
      expect(r.notReadyReason).toBeUndefined();

      brokersAnswer = false;
      r.recordFailed(new KafkaUnavailableError('127.0.0.1:9', 'Local: Message timed out'));
      expect(r.notReadyReason).toMatch(/does not take records/);
      await eventually('the probe to say the brokers do not answer', () => r.notReadyReason?.includes('does not answer'));
      brokersAnswer = true;
      await eventually('ready again once the brokers answer', () => r.notReadyReason === undefined);
    } finally {
      r.close();
    }
  });
});
