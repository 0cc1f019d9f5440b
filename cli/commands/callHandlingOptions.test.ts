import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { callHandlingEdge } from './callHandlingOptions.ts';

describe('callHandlingEdge', () => {
  it("shares the SIP edge's limits but never rate-limits the trusted proxies, whose one address carries every call", () => {
    const s = loadSettings({
      PRESENCE_CONFIG: undefined,
      PRESENCE_SIP_RATE_LIMIT: '50',
      PRESENCE_SIP_RATE_EXEMPT: '192.0.2.1',
      PRESENCE_SIP_TRUSTED_PROXIES: '10.0.0.5,10.1.0.0/16',
    } as NodeJS.ProcessEnv);
    const edge = callHandlingEdge(s);
    expect(edge.limits).toMatchObject({ requestsPerSecond: 50, exempt: ['192.0.2.1', '10.0.0.5', '10.1.0.0/16'] });
    expect(edge.trustedProxies?.has({ transport: 'udp', address: '10.1.2.3', port: 5060 })).toBe(true);
    expect(edge.trustedProxies?.has({ transport: 'udp', address: '192.0.2.1', port: 5060 })).toBe(false);
  });
});
