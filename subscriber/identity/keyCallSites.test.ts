// Every place that turns identities into a subscriber key must agree with
// subscriberKey.ts: the taps (partyKey), the directory (entryKey), the SIP
// front end (presentityKey) and the coordinator's locate query (keyOf). One
// table of inputs, the key each call site gives, and the same key from
// subscriberKey() — a difference here splits one subscriber over two keys.
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { keyOf } from '../../coordinator/locator.ts';
import { presentityKey } from '../../front-end/subscribeHandler.ts';
import { partyKey } from '../../taps/decodeCapture.ts';
import { entryKey } from '../directory/subscriberDirectory.ts';
import type { NumberingPlan } from './msisdn.ts';
import { subscriberKey } from './subscriberKey.ts';

const pt: NumberingPlan = { countryCode: '351', nationalPrefix: '0', internationalPrefix: '00' };
const settings = (countryCode: string) => loadSettings({ PRESENCE_HOME: '/nonexistent/presence-home', PRESENCE_COUNTRY_CODE: countryCode });

// URI → key at the front end (presentity) and in `presence locate` (typed identity).
// `presentity` is undefined where a URI names no subscriber (no user part, local number without context).
const uris: Array<{ uri: string; plan: NumberingPlan; key: string; presentity: string | undefined }> = [
  { uri: 'tel:+351-91-000-0042', plan: pt, key: 'msisdn:+351910000042', presentity: 'msisdn:+351910000042' },
  { uri: 'sip:+351910000042@ims.example.net;user=phone', plan: pt, key: 'msisdn:+351910000042', presentity: 'msisdn:+351910000042' },
  { uri: 'sip:+351910000042;npdi@IMS.example.net;user=phone', plan: pt, key: 'msisdn:+351910000042', presentity: 'msisdn:+351910000042' },
  // national number in a user=phone URI, read with the home numbering plan
  { uri: 'sip:0910000042@ims.example.net;user=phone', plan: pt, key: 'msisdn:+351910000042', presentity: 'msisdn:+351910000042' },
  // local tel number with a global phone-context, and without one
  { uri: 'tel:0042;phone-context=+351-91-000', plan: pt, key: 'msisdn:+351910000042', presentity: 'msisdn:+351910000042' },
  { uri: 'tel:1234', plan: pt, key: 'aor:tel:1234', presentity: undefined },
  { uri: 'tel:7042;phone-context=Example.com', plan: pt, key: 'aor:tel:7042;phone-context=example.com', presentity: undefined },
  // numeric user without user=phone stays an AoR
  { uri: 'sip:+351910000042@ims.example.net', plan: pt, key: 'aor:sip:+351910000042@ims.example.net', presentity: 'aor:sip:+351910000042@ims.example.net' },
  { uri: 'sip:Alice@Example.COM:5060;transport=tcp', plan: pt, key: 'aor:sip:Alice@example.com', presentity: 'aor:sip:Alice@example.com' },
  { uri: 'sips:bob@ims.example.net', plan: pt, key: 'aor:sip:bob@ims.example.net', presentity: 'aor:sip:bob@ims.example.net' },
  // host-only URI
  { uri: 'sip:Example.COM', plan: pt, key: 'aor:sip:example.com', presentity: undefined },
];

// Bare numbers and IMSIs typed at `presence locate`, and how subscriberKey() takes them.
const typed: Array<{ identity: string; countryCode: string; key: string; ids: Parameters<typeof subscriberKey>[0] }> = [
  { identity: '+351 910 000 042', countryCode: '351', key: 'msisdn:+351910000042', ids: { msisdns: ['+351 910 000 042'] } },
  { identity: '0910000042', countryCode: '351', key: 'msisdn:+351910000042', ids: { msisdns: ['0910000042'] } },
  { identity: '0035121234567', countryCode: '351', key: 'msisdn:+35121234567', ids: { msisdns: ['0035121234567'] } },
  // 14-15 bare digits are read as an IMSI at locate, even when they would dial as a number
  { identity: '00351910000042', countryCode: '351', key: 'imsi:00351910000042', ids: { imsis: ['00351910000042'] } },
  // without a national prefix match, bare digits read as international
  { identity: '4535104723', countryCode: '45', key: 'msisdn:+4535104723', ids: { msisdns: ['4535104723'] } },
  { identity: '001010000000001', countryCode: '351', key: 'imsi:001010000000001', ids: { imsis: ['001010000000001'] } },
  { identity: '40503702745134', countryCode: '351', key: 'imsi:40503702745134', ids: { imsis: ['40503702745134'] } },
];

// Normalised identities (as the taps decode them and the directory stores them) → key.
const normalised: Array<{ ids: { msisdn?: string; imsi?: string; aor?: string }; key: string }> = [
  { ids: { msisdn: '+351910000042', imsi: '001010000000001', aor: 'sip:alice@ims.example.net' }, key: 'msisdn:+351910000042' },
  { ids: { imsi: '001010000000001', aor: 'sip:alice@ims.example.net' }, key: 'imsi:001010000000001' },
  { ids: { aor: 'sip:alice@ims.example.net' }, key: 'aor:sip:alice@ims.example.net' },
  { ids: { msisdn: '+351910000042', aor: 'sip:alice@ims.example.net' }, key: 'msisdn:+351910000042' },
  { ids: { msisdn: '', imsi: '001010000000001' }, key: 'imsi:001010000000001' },
];

describe('subscriber keys agree across call sites', () => {
  it.each(uris)('URI $uri', async ({ uri, plan, key, presentity }) => {
    expect(subscriberKey({ uris: [uri] }, plan)).toBe(key);
    expect(await keyOf(settings(plan.countryCode), uri)).toBe(key);
    expect(await keyOf(settings(plan.countryCode), `  ${uri} `)).toBe(key);
    expect(presentityKey(uri, plan)).toBe(presentity);
  });

  it.each(typed)('typed identity $identity', async ({ identity, countryCode, key, ids }) => {
    expect(await keyOf(settings(countryCode), identity)).toBe(key);
    expect(subscriberKey(ids, { countryCode, nationalPrefix: '0', internationalPrefix: '00' })).toBe(key);
  });

  it('a subscriber key typed at locate is taken as it is', async () => {
    for (const k of ['msisdn:+351910000042', 'imsi:001010000000001', 'aor:sip:alice@ims.example.net']) expect(await keyOf(settings('351'), k)).toBe(k);
  });

  it('an identity that is none of these is refused', async () => {
    await expect(keyOf(settings('351'), 'alice')).rejects.toThrow(/not an MSISDN/);
    await expect(keyOf(settings('351'), 'mailto:a@b')).rejects.toThrow(/not an MSISDN/);
  });

  it.each(normalised)('normalised identities $ids', ({ ids, key }) => {
    expect(partyKey(ids)).toBe(key);
    expect(entryKey({ msisdn: ids.msisdn ?? null, imsi: ids.imsi ?? null, aor: ids.aor ?? null })).toBe(key);
    const raw = { msisdns: ids.msisdn ? [ids.msisdn] : [], imsis: ids.imsi ? [ids.imsi] : [], uris: ids.aor ? [ids.aor] : [] };
    expect(subscriberKey(raw, pt)).toBe(key);
  });

  it('no identity: no key', () => {
    expect(partyKey(undefined)).toBeNull();
    expect(partyKey({})).toBeNull();
    expect(subscriberKey({}, pt)).toBeUndefined();
  });

  it('a directory entry keeps the key it was created with', () => {
    expect(entryKey({ key: 'imsi:001010000000001', msisdn: '+351910000042', imsi: '001010000000001', aor: null })).toBe('imsi:001010000000001');
  });
});
