import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../protocols/decode/layer.ts';
import { RegInfoState } from '../../presence-document/regInfoState.ts';
import { apply } from '../../streams/event-manager/presence/derive.ts';
import type { SubscriberPresence } from '../../streams/event-manager/presence/model.ts';
import { partyKey } from '../decodeCapture.ts';
import type { Party } from '../signal.ts';
import { applyRegNotify, type RegNotify } from './regInfoEvents.ts';

const PLAN = { countryCode: '49', nationalPrefix: '0', internationalPrefix: '00' };
const T = Date.UTC(2026, 0, 1);
const key = (p: Party) => partyKey(p.ids);

const notify = (version: number, state: 'full' | 'partial', contacts: string, t: number, regState = 'active'): RegNotify => ({
  body: Buffer.from(
    `<?xml version="1.0"?><reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="${version}" state="${state}">` +
      `<registration aor="sip:alice@ims.test" id="a1" state="${regState}">${contacts}</registration></reginfo>`,
  ),
  time: t,
  callId: 'dlg1',
  cseq: version + 1,
  origin: '127.0.0.1:5060',
});
const c = (id: string, uri: string, state: string, event: string, expires?: number) =>
  `<contact id="${id}" state="${state}" event="${event}"${expires !== undefined ? ` expires="${expires}"` : ''}><uri>${uri}</uri></contact>`;

describe('applyRegNotify', () => {
  it('turns registered / refreshed / expired / unregistered into REGISTER 200 events the event manager derives from', () => {
    const state = new RegInfoState();
    const docs = [
      notify(0, 'full', c('1', 'sip:alice@10.0.0.1:5060', 'active', 'registered', 3600), T),
      notify(1, 'partial', c('2', 'sip:alice@10.0.0.2:5060', 'active', 'created', 600), T + 1000),
      notify(2, 'partial', c('1', 'sip:alice@10.0.0.1:5060', 'active', 'refreshed', 3600), T + 2000),
      notify(3, 'partial', c('2', 'sip:alice@10.0.0.2:5060', 'terminated', 'expired'), T + 3000),
      notify(4, 'partial', c('1', 'sip:alice@10.0.0.1:5060', 'terminated', 'unregistered'), T + 4000, 'terminated'),
    ];
    let presence: SubscriberPresence | undefined;
    const seen: string[][] = [];
    for (const d of docs) {
      const out = applyRegNotify(state, d, PLAN, key);
      expect(out.kind).toBe('events');
      if (out.kind !== 'events') return;
      expect(out.events).toHaveLength(1);
      const e = out.events[0]!;
      expect(e).toMatchObject({ subscriber: 'aor:sip:alice@ims.test', protocol: 'sip', message: '200', kind: 'response', source: { tap: 'reg-event' } });
      expect(e.sip).toMatchObject({ method: 'REGISTER', status: 200, event: 'reg', contentType: 'application/reginfo+xml' });
      seen.push(e.sip!.contacts);
      presence = apply(presence, e).state;
      if (d === docs[1])
        expect(presence.registration.contacts.map((x) => [x.uri, x.expiresAt])).toEqual([
          ['sip:alice@10.0.0.1:5060', T + 3600_000],
          ['sip:alice@10.0.0.2:5060', T + 1000 + 600_000],
        ]);
    }
    expect(seen).toEqual([
      ['sip:alice@10.0.0.1:5060;expires=3600'],
      ['sip:alice@10.0.0.1:5060;expires=3599', 'sip:alice@10.0.0.2:5060;expires=600'],
      ['sip:alice@10.0.0.1:5060;expires=3600', 'sip:alice@10.0.0.2:5060;expires=599'],
      ['sip:alice@10.0.0.1:5060;expires=3599'],
      [],
    ]);
    expect(presence!.registration.contacts).toEqual([]);
  });

  it('asks for a re-SUBSCRIBE when a partial NOTIFY skips a version, and ignores a repeated one', () => {
    const state = new RegInfoState();
    applyRegNotify(state, notify(0, 'full', c('1', 'sip:alice@h', 'active', 'registered', 60), T), PLAN, key);
    expect(applyRegNotify(state, notify(0, 'partial', '', T + 1), PLAN, key)).toEqual({ kind: 'stale', version: 0 });
    expect(applyRegNotify(state, notify(2, 'partial', c('1', 'sip:alice@h', 'terminated', 'deactivated'), T + 2), PLAN, key)).toEqual({
      kind: 'resubscribe',
      expected: 1,
      got: 2,
    });
  });

  it('two NOTIFYs with the same full-state version (Kamailio numbers every document 0) publish distinct event ids', () => {
    const state = new RegInfoState();
    const a = applyRegNotify(state, notify(0, 'full', c('1', 'sip:alice@h', 'active', 'created', 60), T), PLAN, key);
    const b = applyRegNotify(state, { ...notify(0, 'full', c('1', 'sip:alice@h', 'active', 'refreshed', 60), T + 1), cseq: 2 }, PLAN, key);
    expect(a.kind === 'events' && b.kind === 'events' && a.events[0]!.eventId !== b.events[0]!.eventId).toBe(true);
  });

  it('a telephone-number identity is keyed by its MSISDN, as the taps key it', () => {
    const state = new RegInfoState();
    const body = Buffer.from(
      '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full"><registration aor="tel:+491701234567" id="r" state="active">' +
        c('1', 'sip:ue@10.1.1.1', 'active', 'registered', 100) +
        '</registration></reginfo>',
    );
    const out = applyRegNotify(state, { body, time: T, callId: 'd', cseq: 1, origin: null }, PLAN, key);
    expect(out.kind === 'events' && out.events.map((e) => e.subscriber)).toEqual(['msisdn:+491701234567']);
  });

  it('a malformed document throws a DecodeError and leaves the state alone', () => {
    const state = new RegInfoState();
    applyRegNotify(state, notify(0, 'full', c('1', 'sip:alice@h', 'active', 'registered', 60), T), PLAN, key);
    expect(() => applyRegNotify(state, { ...notify(1, 'partial', '', T), body: Buffer.from('<reginfo version="1"') }, PLAN, key)).toThrow(DecodeError);
    expect(state.currentVersion).toBe(0);
  });
});
