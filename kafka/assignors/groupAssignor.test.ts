import { describe, expect, it } from 'vitest';
import { consumerConfig } from '../rdkafkaConfig.ts';
import { parseGroupAssignor, rackFor } from './groupAssignor.ts';

describe('group assignor option', () => {
  it('accepts the three assignors and names the choices when rejecting others', () => {
    expect(parseGroupAssignor('load')).toBe('load');
    expect(() => parseGroupAssignor('sticky', '--assignor')).toThrow(/--assignor must be one of range, uniform, load, not "sticky"/);
  });

  it('puts the member id in client.rack only for the load assignor', () => {
    expect(rackFor('load', 'em-3')).toBe('em-3');
    expect(rackFor('range', 'em-3')).toBeUndefined();
  });

  it('configures a KIP-848 member and refuses a broker-side assignor with the classic protocol', () => {
    const c = consumerConfig({ brokers: 'b:9092', clientId: 'x' }, { groupId: 'g', copartitioned: true, assignor: 'load', rack: 'em-1' }) as Record<
      string,
      unknown
    >;
    expect(c['group.remote.assignor']).toBe('load');
    expect(c['client.rack']).toBe('em-1');
    const d = consumerConfig({ brokers: 'b:9092', clientId: 'x' }, { groupId: 'g', copartitioned: true }) as Record<string, unknown>;
    expect(d['group.remote.assignor']).toBe('range');
    expect(() => consumerConfig({ brokers: 'b', clientId: 'x' }, { groupId: 'g', protocol: 'classic', assignor: 'load' })).toThrow(/classic/);
  });
});
