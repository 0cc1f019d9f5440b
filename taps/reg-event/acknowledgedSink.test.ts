import { describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import type { SignalingPublisher } from '../signalingPublisher.ts';
import { acknowledgedSink } from './acknowledgedSink.ts';

const event = (id: string) => ({ eventId: id }) as SignalingEvent;

describe('acknowledgedSink', () => {
  it('resolves a publish only after the drain that covers it, one caller at a time', async () => {
    const log: string[] = [];
    let release: () => void = () => {};
    const publisher = {
      publish: async (e: SignalingEvent) => void log.push(`publish ${e.eventId}`),
      drain: () => new Promise<void>((r) => (release = () => (log.push('drained'), r()))),
    } as unknown as SignalingPublisher;
    const sink = acknowledgedSink(publisher);
    const a = sink.publish(event('a'));
    const b = sink.publish(event('b'));
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['publish a']);
    release();
    await a;
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['publish a', 'drained', 'publish b']);
    release();
    await b;
  });

  it('rejects and reports a delivery failure, and goes on serving later calls', async () => {
    const failures: string[] = [];
    let fail = true;
    const publisher = {
      publish: async () => undefined,
      drain: async () => {
        if (fail) throw new Error('brokers down');
      },
    } as unknown as SignalingPublisher;
    const sink = acknowledgedSink(publisher, (e) => failures.push(e.message));
    await expect(sink.publish(event('a'))).rejects.toThrow('brokers down');
    fail = false;
    await expect(sink.publish(event('b'))).resolves.toBeUndefined();
    expect(failures).toEqual(['brokers down']);
  });
});
