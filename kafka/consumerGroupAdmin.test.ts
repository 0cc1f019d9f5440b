// Group administration against a fake coordinator on loopback: a coordinator
// still loading its groups (error 14, as right after `stack up`) is waited
// for, not reported as a failure (the notify sink exited at start on it).
import { afterEach, describe, expect, it } from 'vitest';
import { describeConsumerGroup, KafkaProtocolError } from './consumerGroupAdmin.ts';
import { WireWriter } from './kafkaWire.ts';
import { startFakeKafka } from '../test/support/fakeKafkaBroker.ts';

const FIND_COORDINATOR = 10;
const DESCRIBE = 69;

/** Answers FindCoordinator with itself and ConsumerGroupDescribe with the next code of `describeCodes` (the last one repeats). */
async function fakeCoordinator(describeCodes: number[]): Promise<{ port: number; describes: () => number; close: () => void }> {
  let describes = 0;
  let port = 0;
  const fake = await startFakeKafka((reply, sock) => ({ apiKey, id }) => {
    const body = new WireWriter().int32(0); // throttle
    if (apiKey === FIND_COORDINATOR) {
      body.int16(0).compactString(null).int32(1).compactString('127.0.0.1').int32(port).tags();
    } else if (apiKey === DESCRIBE) {
      const code = describeCodes[Math.min(describes++, describeCodes.length - 1)]!;
      body
        .array([code], (w, c) =>
          w
            .int16(c)
            .compactString(null)
            .compactString('g')
            .compactString('')
            .int32(0)
            .int32(0)
            .compactString('')
            .array([], () => {})
            .int32(0)
            .tags(),
        )
        .tags();
    } else {
      sock.destroy();
      return;
    }
    reply(id, true, body.bytes());
  });
  port = fake.port;
  return { port, describes: () => describes, close: fake.close };
}

const servers: { close: () => void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe('describeConsumerGroup', () => {
  it('waits while the coordinator is still loading its groups (error 14), then answers', async () => {
    const fake = await fakeCoordinator([14, 14, 69]);
    servers.push(fake);
    await expect(describeConsumerGroup(`127.0.0.1:${fake.port}`, 'g')).resolves.toBeUndefined();
    expect(fake.describes()).toBe(3);
  });

  it('a group with no members describes as its state', async () => {
    const fake = await fakeCoordinator([0]);
    servers.push(fake);
    await expect(describeConsumerGroup(`127.0.0.1:${fake.port}`, 'g')).resolves.toMatchObject({ members: [] });
  });

  it('a non-retriable error is reported with its code', async () => {
    const fake = await fakeCoordinator([30]); // GROUP_AUTHORIZATION_FAILED
    servers.push(fake);
    const err = await describeConsumerGroup(`127.0.0.1:${fake.port}`, 'g').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaProtocolError);
    expect((err as KafkaProtocolError).code).toBe(30);
    expect(fake.describes()).toBe(1);
  });
});
