import { describe, expect, it } from 'vitest';
import { watcherIdentity } from './watcherIdentity.ts';

describe('watcher identity', () => {
  it('drops angle brackets and parameters, folds the host case, keeps the user part', () => {
    expect(watcherIdentity('sip:Alice@Example.COM;transport=tcp')).toBe('sip:Alice@example.com');
    expect(watcherIdentity(' <sip:bob@Host.example;transport=tcp>;tag=9 ')).toBe('sip:bob@host.example');
    expect(watcherIdentity('TEL:+15550001')).toBe('tel:+15550001');
  });
});
