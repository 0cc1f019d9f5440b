// Registrations: what is refused (naming the field) and which events a registration wants.
import { describe, expect, it } from 'vitest';
import { parseRegistration, registrationJson, RegistrationInvalid, wants } from './serviceRegistration.ts';
import { backoffMs, signature } from './webhookDispatcher.ts';
import { createHmac } from 'node:crypto';

const field = (name: string, body: unknown): string => {
  try {
    parseRegistration(name, body);
  } catch (err) {
    if (err instanceof RegistrationInvalid) return err.field;
    throw err;
  }
  return 'accepted';
};

describe('parseRegistration', () => {
  const pull = { mode: 'pull' };
  it('names the field at fault', () => {
    expect(field('bad name!', { subscriptions: [{ types: ['*'] }], delivery: pull })).toBe('name');
    expect(field('crm', [])).toBe('body');
    expect(field('crm', { delivery: pull })).toBe('publishes');
    expect(field('crm', { subscriptions: [{ types: [] }], delivery: pull })).toBe('subscriptions[0].types');
    expect(field('crm', { subscriptions: [{ types: ['call.missed', 'call.lost'] }], delivery: pull })).toBe('subscriptions[0].types[1]');
    expect(field('crm', { subscriptions: [{ types: ['*'], subscribers: [] }], delivery: pull })).toBe('subscriptions[0].subscribers');
    expect(field('crm', { subscriptions: [{ types: ['*'], where: { x: {} } }], delivery: pull })).toBe('subscriptions[0].where.x');
    expect(field('crm', { subscriptions: [{ types: ['*'], extra: 1 }], delivery: pull })).toBe('subscriptions[0].extra');
    expect(field('crm', { publishes: ['event-type.available'], delivery: pull })).toBe('publishes[0]');
    expect(field('crm', { publishes: ['usage.gauge'] })).toBe('delivery');
    expect(field('crm', { publishes: ['usage.gauge'], delivery: { mode: 'mail' } })).toBe('delivery.mode');
    expect(field('crm', { publishes: ['usage.gauge'], delivery: { mode: 'webhook', url: 'ftp://x', secret: '0123456789abcdef' } })).toBe('delivery.url');
    expect(field('crm', { publishes: ['usage.gauge'], delivery: { mode: 'webhook', url: 'http://x/', secret: 'short' } })).toBe('delivery.secret');
    expect(field('crm', { publishes: ['usage.gauge'], delivery: { mode: 'pull', url: 'http://x/' } })).toBe('delivery.url');
    expect(field('crm', { publishes: ['usage.gauge'], delivery: pull, more: 1 })).toBe('more');
    const byList = (contactList: unknown, more: object = {}) => field('crm', { subscriptions: [{ types: ['*'], contactList, ...more }], delivery: pull });
    expect(byList({ owner: '+1', list: 'friends' })).toBe('subscriptions[0].contactList.list');
    expect(byList({ owner: '', list: 'watched' })).toBe('subscriptions[0].contactList.owner');
    expect(byList({ owner: '+1', list: 'watched', x: 1 })).toBe('subscriptions[0].contactList.x');
    expect(byList('watched')).toBe('subscriptions[0].contactList');
    expect(byList({ owner: '+1', list: 'watched' }, { subscribers: ['+2'] })).toBe('subscriptions[0].contactList');
    expect(byList({ owner: '+1', list: 'watched' })).toBe('accepted');
  });

  it('accepts a full one, and never shows the secret', () => {
    const r = parseRegistration('crm', {
      publishes: ['usage.gauge'],
      subscriptions: [{ types: ['call.missed'], subscribers: ['msisdn:+1'], where: { protocol: 'isup' } }],
      delivery: { mode: 'webhook', url: 'https://crm.example/hook', secret: '0123456789abcdef' },
    });
    expect(r).toMatchObject({ name: 'crm', delivery: 'webhook', webhookUrl: 'https://crm.example/hook', webhookSecret: '0123456789abcdef' });
    expect(JSON.stringify(registrationJson(r))).not.toContain('0123456789abcdef');
  });
});

describe('wants', () => {
  const r = parseRegistration('crm', {
    subscriptions: [
      { types: ['call.missed'], subscribers: ['msisdn:+1'] },
      { types: ['usage.gauge'], where: { gauge: 'voice-minutes' } },
    ],
    delivery: { mode: 'pull' },
  });
  it('matches type, subscriber and payload filters', () => {
    expect(wants(r, { type: 'call.missed', subject: 'msisdn:+1', payload: {} })).toBe(true);
    expect(wants(r, { type: 'call.missed', subject: 'msisdn:+2', payload: {} })).toBe(false);
    expect(wants(r, { type: 'call.offered', subject: 'msisdn:+1', payload: {} })).toBe(false);
    expect(wants(r, { type: 'usage.gauge', subject: 'msisdn:+9', payload: { gauge: 'voice-minutes' } })).toBe(true);
    expect(wants(r, { type: 'usage.gauge', subject: 'msisdn:+9', payload: { gauge: 'data-mb' } })).toBe(false);
    const all = parseRegistration('x', { subscriptions: [{ types: ['*'] }], delivery: { mode: 'sse' } });
    expect(wants(all, { type: 'presence.changed', subject: 'aor:sip:a@b', payload: null })).toBe(true);
  });

  it("by a contact list: the list's members now, nothing while the list is not known", () => {
    const softphone = parseRegistration('softphone', {
      subscriptions: [{ types: ['presence.changed'], contactList: { owner: 'msisdn:+1', list: 'watched' } }],
      delivery: { mode: 'sse' },
    });
    const event = (subject: string) => ({ type: 'presence.changed', subject, payload: {} });
    const lists = (owner: string, list: string) => (owner === 'msisdn:+1' && list === 'watched' ? new Set(['msisdn:+2', 'aor:sip:c@example.net']) : undefined);
    expect(wants(softphone, event('msisdn:+2'), lists)).toBe(true);
    expect(wants(softphone, event('aor:sip:c@example.net'), lists)).toBe(true);
    expect(wants(softphone, event('msisdn:+3'), lists)).toBe(false);
    expect(wants(softphone, event('msisdn:+2'))).toBe(false);
    expect(wants(softphone, event('msisdn:+2'), () => undefined)).toBe(false);
    expect(registrationJson(softphone).subscriptions).toEqual([
      { types: ['presence.changed'], subscribers: 'all', contactList: { owner: 'msisdn:+1', list: 'watched' }, where: {} },
    ]);
  });

  it('sends a notice about a type to the subscribers of that type, whatever their subscriber and payload filters', () => {
    const notice = (eventType: string) => ({ type: 'event-type.unavailable', subject: eventType, payload: { eventType, available: false } });
    expect(wants(r, notice('usage.gauge'))).toBe(true);
    expect(wants(r, notice('call.missed'))).toBe(true);
    expect(wants(r, notice('sms.received'))).toBe(false);
    const noticesOnly = parseRegistration('ops', { subscriptions: [{ types: ['event-type.unavailable'] }], delivery: { mode: 'pull' } });
    expect(wants(noticesOnly, notice('sms.received'))).toBe(true);
  });
});

describe('webhook signature and backoff', () => {
  it('signs the exact body with HMAC-SHA256 and doubles the wait up to the bound', () => {
    expect(signature('k', '{"a":1}')).toBe(`sha256=${createHmac('sha256', 'k').update('{"a":1}').digest('hex')}`);
    expect([0, 1, 2, 3, 10, 100].map((n) => backoffMs(n, 500, 60_000))).toEqual([500, 1000, 2000, 4000, 60_000, 60_000]);
  });
});
