// The member's reg-event agent is on only with both a registrar and an identities file; half of that is refused, named.
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { regEventConfigured } from './memberRegEvent.ts';

const settings = (env: Record<string, string>) => loadSettings(env);

describe('regEventConfigured', () => {
  it('is off by default and on with both settings', () => {
    expect(regEventConfigured(settings({}))).toBe(false);
    expect(regEventConfigured(settings({ PRESENCE_REG_EVENT_REGISTRAR: 'scscf.example.net:5060', PRESENCE_REG_EVENT_IDENTITIES: '/etc/ims' }))).toBe(true);
  });

  it('refuses half a configuration, naming what is missing', () => {
    expect(() => regEventConfigured(settings({ PRESENCE_REG_EVENT_REGISTRAR: 'scscf.example.net:5060' }))).toThrow(/only the registrar is set/);
    expect(() => regEventConfigured(settings({ PRESENCE_REG_EVENT_IDENTITIES: '/etc/ims' }))).toThrow(/only the identities file is set/);
  });
});
